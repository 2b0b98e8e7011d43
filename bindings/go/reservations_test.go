package portmanager

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// Ports far from common services: reservations skip the probe anyway (NoProbe).
const storeYAML = `kafka:
  broker_port: 39092
  controller_port: 49093
  instance_increment: 100
  max_instances: 10
  container_name: kafka-development
`

func openStore(t *testing.T) (*Registry, string) {
	t.Helper()
	pm, err := OpenString(storeYAML, "store.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pm.Close() })
	return pm, filepath.Join(t.TempDir(), "state") // never /var/lib/portmanager
}

func TestReserveReleaseStatus(t *testing.T) {
	pm, state := openStore(t)
	wf := &ReserveOptions{StateDir: state, Owner: "wf-7", NoProbe: true}
	got, err := pm.Reserve("kafka", AnyInstance, wf)
	if err != nil || got != 0 {
		t.Fatalf("Reserve any: %d, %v", got, err)
	}
	got, err = pm.Reserve("kafka", AnyInstance, &ReserveOptions{StateDir: state, Owner: "wf-8", NoProbe: true})
	if err != nil || got != 1 {
		t.Fatalf("Reserve any again: %d, %v", got, err)
	}
	if got, err := pm.Reserve("kafka", 0, wf); err != nil || got != 0 {
		t.Fatalf("the owner reserving again: %d, %v", got, err)
	}
	_, err = pm.Reserve("kafka", 0, &ReserveOptions{StateDir: state, Owner: "other", NoProbe: true})
	wantError(t, err, ErrReserved, "instance 0 is reserved by 'wf-7'")

	list, err := pm.Status("kafka", state)
	if err != nil || len(list) != 2 {
		t.Fatalf("Status: %v, %v", list, err)
	}
	first := list[0]
	if first.Service != "kafka" || first.Instance != 0 || first.Owner != "wf-7" || first.OwnerKind != "name" ||
		first.PID != 0 || !first.Expires.IsZero() || time.Since(first.Since) > time.Hour {
		t.Fatalf("Status[0]: %+v", first)
	}
	if want := []NamedPort{{"broker_port", 39092}, {"controller_port", 49093}}; !reflect.DeepEqual(first.Ports, want) {
		t.Fatalf("Status[0].Ports: %v", first.Ports)
	}
	if want := []int{39092, 49093}; !reflect.DeepEqual(first.HostPorts, want) {
		t.Fatalf("Status[0].HostPorts: %v", first.HostPorts)
	}

	_, err = pm.Release("kafka", 0, &ReleaseOptions{StateDir: state, Owner: "other"})
	wantError(t, err, ErrNotOwner, "wf-7")
	if released, err := pm.Release("kafka", 0, &ReleaseOptions{StateDir: state, Owner: "wf-7"}); err != nil || !released {
		t.Fatalf("Release by the owner: %v, %v", released, err)
	}
	if released, err := pm.Release("kafka", 0, &ReleaseOptions{StateDir: state, Owner: "wf-7"}); err != nil || released {
		t.Fatalf("Release again: %v, %v", released, err)
	}
	if released, err := pm.Release("kafka", 1, &ReleaseOptions{StateDir: state, Owner: "x", Force: true}); err != nil || !released {
		t.Fatalf("forced Release: %v, %v", released, err)
	}
	if list, err := pm.Status("", state); err != nil || len(list) != 0 {
		t.Fatalf("Status after releases: %v, %v", list, err)
	}
}

func TestReserveTTLAndRenew(t *testing.T) {
	pm, state := openStore(t)
	opts := &ReserveOptions{StateDir: state, Owner: "wf-1", TTL: time.Minute, NoProbe: true}
	if _, err := pm.Reserve("kafka", 3, opts); err != nil {
		t.Fatal(err)
	}
	list, err := pm.Status("kafka", state)
	if err != nil || len(list) != 1 {
		t.Fatalf("Status: %v, %v", list, err)
	}
	if left := time.Until(list[0].Expires); left <= 0 || left > time.Minute+time.Second {
		t.Fatalf("expires in %v", left)
	}
	if err := pm.Renew("kafka", 3, time.Hour, &ReleaseOptions{StateDir: state, Owner: "wf-1"}); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	list, err = pm.Status("kafka", state)
	if err != nil || time.Until(list[0].Expires) < 59*time.Minute {
		t.Fatalf("after Renew: %v, %v", list, err)
	}
	err = pm.Renew("kafka", 4, time.Hour, &ReleaseOptions{StateDir: state, Owner: "wf-1"})
	wantError(t, err, ErrNotOwner)
	err = pm.Renew("kafka", 3, time.Hour, &ReleaseOptions{StateDir: state, Owner: "wf-1", Force: true})
	wantError(t, err, ErrInvalidArgument, "Force")
	_, err = pm.Reserve("kafka", 5, &ReserveOptions{StateDir: state, TTL: 1500 * time.Millisecond, NoProbe: true})
	wantError(t, err, ErrInvalidArgument, "TTL 1.5s")
	_, err = pm.Reserve("kafka", 5, &ReserveOptions{StateDir: state, TTL: -time.Second, NoProbe: true})
	wantError(t, err, ErrInvalidArgument)
}

func TestReserveOwners(t *testing.T) {
	pm, state := openStore(t)
	if _, err := pm.Reserve("kafka", 2, &ReserveOptions{StateDir: state, ContainerOwner: true, NoProbe: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := pm.Reserve("kafka", 4, &ReserveOptions{StateDir: state, NoProbe: true}); err != nil {
		t.Fatal(err)
	}
	list, err := pm.Status("kafka", state)
	if err != nil || len(list) != 2 {
		t.Fatalf("Status: %v, %v", list, err)
	}
	if list[0].Owner != "kafka-development-2" || list[0].OwnerKind != "container" {
		t.Fatalf("container owner: %+v", list[0])
	}
	if list[1].OwnerKind != "process" || list[1].PID != os.Getpid() || list[1].Command == "" {
		t.Fatalf("process owner: %+v", list[1])
	}
	// With ContainerOwner, Owner names the container; Docker's rule for names applies.
	if _, err := pm.Reserve("kafka", 6, &ReserveOptions{StateDir: state, Owner: "kafka-x", ContainerOwner: true, NoProbe: true}); err != nil {
		t.Fatal(err)
	}
	_, err = pm.Reserve("kafka", 6, &ReserveOptions{StateDir: state, Owner: "kafka-x", NoProbe: true})
	wantError(t, err, ErrReserved, "reserved by container 'kafka-x'")
	_, err = pm.Reserve("kafka", 7, &ReserveOptions{StateDir: state, Owner: "x", ContainerOwner: true, NoProbe: true})
	wantError(t, err, ErrInvalidArgument, "container name 'x' is not a Docker container name")
	_, err = pm.Reserve("kafka", 6, &ReserveOptions{StateDir: state, Owner: "a\x00b", NoProbe: true})
	wantError(t, err, ErrInvalidArgument, "owner", "NUL")
	_, err = pm.Reserve("kafak", AnyInstance, &ReserveOptions{StateDir: state, NoProbe: true})
	wantError(t, err, ErrUnknownService, "did you mean 'kafka'")
	_, err = pm.Reserve("kafka", 10, &ReserveOptions{StateDir: state, NoProbe: true})
	wantError(t, err, ErrInstanceOutOfRange, "allowed: 0..9")
}

// A store that cannot be used safely is refused, and the message names it.
func TestReserveRefusedStore(t *testing.T) {
	pm, _ := openStore(t)
	file := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := pm.Reserve("kafka", 0, &ReserveOptions{StateDir: file, Owner: "a", NoProbe: true})
	wantError(t, err, ErrState, file)
	_, err = pm.Status("", file)
	wantError(t, err, ErrState, file)
}

// Without NoProbe, an instance whose port a process uses is refused.
func TestReserveProbesPorts(t *testing.T) {
	listener, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Skipf("cannot listen: %v", err)
	}
	defer listener.Close()
	port := listener.Addr().(*net.TCPAddr).Port
	pm, err := OpenString(fmt.Sprintf("web:\n  port: %d\n  max_instances: 1\n", port), "busy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	state := filepath.Join(t.TempDir(), "state")
	_, err = pm.Reserve("web", 0, &ReserveOptions{StateDir: state, Owner: "wf-1"})
	wantError(t, err, ErrReserved, strconv.Itoa(port))
	if got, err := pm.Reserve("web", 0, &ReserveOptions{StateDir: state, Owner: "wf-1", NoProbe: true}); err != nil || got != 0 {
		t.Fatalf("with NoProbe: %d, %v", got, err)
	}
}

// The same owner again is not Fresh; another owner is refused; Bind hands the reservation to its container.
func TestReserveFreshAndBind(t *testing.T) {
	pm, state := openStore(t)
	wf := &ReserveOptions{StateDir: state, Owner: "wf-1", TTL: time.Hour, NoProbe: true}
	first, err := pm.ReserveInstance("kafka", 3, wf)
	if err != nil || first != (Reserved{Instance: 3, Fresh: true}) {
		t.Fatalf("first ReserveInstance: %+v, %v", first, err)
	}
	again, err := pm.ReserveInstance("kafka", 3, wf)
	if err != nil || again != (Reserved{Instance: 3, Fresh: false}) {
		t.Fatalf("ReserveInstance again: %+v, %v", again, err)
	}
	_, err = pm.ReserveInstance("kafka", 3, &ReserveOptions{StateDir: state, Owner: "wf-2", NoProbe: true})
	wantError(t, err, ErrReserved, "instance 3 is reserved by 'wf-1'")

	err = pm.Bind("kafka", 3, "", &ReleaseOptions{StateDir: state, Owner: "wf-2"})
	wantError(t, err, ErrNotOwner, "reserved by 'wf-1', not by 'wf-2'")
	if err := pm.Bind("kafka", 3, "", &ReleaseOptions{StateDir: state, Owner: "wf-1"}); err != nil {
		t.Fatal(err)
	}
	if err := pm.Bind("kafka", 3, "/kafka-development-3", &ReleaseOptions{StateDir: state}); err != nil { // anyone: that container's already
		t.Fatal(err)
	}
	list, err := pm.Status("kafka", state)
	if err != nil || len(list) != 1 || list[0].Owner != "kafka-development-3" || list[0].OwnerKind != "container" ||
		!list[0].Expires.IsZero() {
		t.Fatalf("the bound reservation: %+v, %v", list, err)
	}
	wantError(t, pm.Bind("kafka", 4, "kafka-4", &ReleaseOptions{StateDir: state}), ErrNotOwner, "is not reserved")
	wantError(t, pm.Bind("kafka", 3, "no good", &ReleaseOptions{StateDir: state}), ErrInvalidArgument,
		"container name 'no good' is not a Docker container name")
	wantError(t, pm.Bind("kafka", 3, "a\x00b", &ReleaseOptions{StateDir: state}), ErrInvalidArgument, "container", "NUL")
	wantError(t, pm.Bind("kafka", 3, "", &ReleaseOptions{StateDir: state, Force: true}), ErrInvalidArgument, "Force")
	wantError(t, pm.Bind("kafka", 10, "", &ReleaseOptions{StateDir: state}), ErrInstanceOutOfRange)
	wantError(t, pm.Bind("kafka", -1, "", &ReleaseOptions{StateDir: state}), ErrInstanceOutOfRange)
	released, err := pm.Release("kafka", 3, &ReleaseOptions{StateDir: state, ContainerOwner: true})
	if err != nil || !released {
		t.Fatalf("Release by the container: %v, %v", released, err)
	}
}
