package portmanager_test

import (
	"errors"
	"fmt"
	"log"
	"path/filepath"

	"portmanager"
)

// The example of docs/go.md, on the shipped registry.
func Example() {
	pm, err := portmanager.Open(filepath.Join("..", "..", "dynamicconfig", "port_registry.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	defer pm.Close()
	port, _ := pm.Port("kafka", 1, "broker_port")
	name, _ := pm.ContainerName("kafka", 1)
	fmt.Println(name, port)
	if _, err := pm.Port("kafak", 0, "broker_port"); errors.Is(err, portmanager.ErrUnknownService) {
		fmt.Println(err)
	}
	// Output:
	// kafka-development-1 9192
	// portmanager: unknown service 'kafak'; did you mean 'kafka'?
}

// Reserving an instance for a workflow, and releasing it.
func ExampleRegistry_Reserve() {
	pm, err := portmanager.OpenString("kafka:\n  broker_port: 39092\n  max_instances: 3\n", "example.yaml")
	if err != nil {
		log.Fatal(err)
	}
	defer pm.Close()
	state := filepath.Join(exampleDir(), "state") // in production: "" for the default store
	held := &portmanager.ReserveOptions{StateDir: state, Owner: "wf-8841", NoProbe: true}
	instance, _ := pm.Reserve("kafka", portmanager.AnyInstance, held)
	_, err = pm.Reserve("kafka", instance, &portmanager.ReserveOptions{StateDir: state, Owner: "wf-9", NoProbe: true})
	fmt.Println(instance, errors.Is(err, portmanager.ErrReserved))
	released, _ := pm.Release("kafka", instance, &portmanager.ReleaseOptions{StateDir: state, Owner: "wf-8841"})
	fmt.Println(released)
	// Output:
	// 0 true
	// true
}
