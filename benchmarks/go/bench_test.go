package gobench

// (*portmanager.Registry).Port against its budget: a Go map lookup of the
// same keys plus the floor of one cgo call, each measured here, in the same
// run. run.sh runs them in interleaved rounds and prints the ratio
// Port / (MapLookup + CgoFloor); the goal is at most 2.
//
// The keys are every named port of every service of the shipped registry
// (dynamicconfig/port_registry.yaml), instances 0..2, taken in turn.

import (
	"path/filepath"
	"syscall"
	"testing"

	"portmanager"
)

type key struct {
	service  string
	instance int
	port     string
}

var sink int

// cpuNow is the process's CPU time (user + system) in ns. On a shared machine
// wall time also counts the time other processes ran, so each benchmark
// reports cpu-ns/op beside ns/op (run with -test.cpu 1: one goroutine, one
// thread running Go code), as benchmarks/core does with CLOCK_THREAD_CPUTIME_ID.
func cpuNow() int64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		panic(err)
	}
	return usage.Utime.Nano() + usage.Stime.Nano()
}

// report gives the CPU time per call since start.
func report(b *testing.B, start int64) {
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
}

func setup(b *testing.B) (*portmanager.Registry, []key, map[key]int) {
	b.Helper()
	pm, err := portmanager.Open(filepath.Join("..", "..", "dynamicconfig", "port_registry.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pm.Close() })
	services, err := pm.Services()
	if err != nil {
		b.Fatal(err)
	}
	var keys []key
	table := map[key]int{}
	for _, service := range services {
		ports, err := pm.Ports(service, 0)
		if err != nil {
			b.Fatal(err)
		}
		for instance := 0; instance < 3; instance++ {
			for _, p := range ports {
				k := key{service, instance, p.Name}
				port, err := pm.Port(k.service, k.instance, k.port)
				if err != nil {
					b.Fatal(err)
				}
				keys = append(keys, k)
				table[k] = port
			}
		}
	}
	return pm, keys, table
}

func BenchmarkPort(b *testing.B) {
	pm, keys, _ := setup(b)
	b.ResetTimer()
	start := cpuNow()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		port, err := pm.Port(k.service, k.instance, k.port)
		if err != nil {
			b.Fatal(err)
		}
		sink += port
	}
	report(b, start)
}

func BenchmarkMapLookup(b *testing.B) {
	_, keys, table := setup(b)
	b.ResetTimer()
	start := cpuNow()
	for i := 0; i < b.N; i++ {
		port, ok := table[keys[i%len(keys)]]
		if !ok {
			b.Fatal("missing key")
		}
		sink += port
	}
	report(b, start)
}

func BenchmarkCgoFloor(b *testing.B) {
	start := cpuNow()
	for i := 0; i < b.N; i++ {
		sink += int(Floor(int32(i)))
	}
	report(b, start)
}

func BenchmarkCgoFloorShaped(b *testing.B) {
	_, keys, _ := setup(b)
	b.ResetTimer()
	start := cpuNow()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		sink += FloorShaped(k.service, int32(k.instance), k.port)
	}
	report(b, start)
}

// One cgo call to pm_get_port with C strings made beforehand: the binding's
// Port without the binding (informative; not part of the ratio).
func BenchmarkRawGetPort(b *testing.B) {
	_, keys, _ := setup(b)
	var services, ports []string
	for _, k := range keys {
		services, ports = append(services, k.service), append(ports, k.port)
	}
	raw, err := OpenRaw(filepath.Join("..", "..", "dynamicconfig", "port_registry.yaml"), services, ports)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	b.ResetTimer()
	start := cpuNow()
	for i := 0; i < b.N; i++ {
		j := i % len(keys)
		port := raw.Port(j, int32(keys[j].instance))
		if port < 0 {
			b.Fatal("pm_get_port failed")
		}
		sink += port
	}
	report(b, start)
}
