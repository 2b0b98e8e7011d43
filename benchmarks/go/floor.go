// Package gobench holds the baselines of the Go binding's benchmark
// (bench_test.go): the cost of one cgo call, measured through trivial C
// functions. cgo cannot be used in _test.go files, so they live here.
package gobench

/*
#cgo pkg-config: portmanager
#include <stdint.h>
#include <stdlib.h>
#include <portmanager.h>

// The floor: the cheapest cgo call there is.
static int32_t gobench_floor(int32_t x) { return x; }

// The same call shape as the binding's pm_get_port helper (a handle, two Go
// strings, an instance; a small struct back by value) doing nothing.
typedef struct { int32_t status; char *message; uint16_t port; } gobench_result;
static gobench_result gobench_floor_shaped(const void *registry, _GoString_ service, int32_t instance,
                                           _GoString_ port) {
	gobench_result r = {0, 0, (uint16_t)(instance + (int32_t)_GoStringLen(service) + (int32_t)_GoStringLen(port))};
	(void)registry;
	return r;
}
// pm_get_port itself, with C strings made once: what one cgo call to the
// library costs without any binding around it.
static int32_t gobench_raw(const pm_registry *r, const char *service, int32_t instance, const char *port) {
	uint16_t out = 0;
	pm_status s = pm_get_port(r, service, instance, port, &out);
	return s == PM_OK ? out : -1;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Floor calls a C function that returns its argument.
func Floor(x int32) int32 { return int32(C.gobench_floor(C.int32_t(x))) }

// FloorShaped calls a C function that takes what the binding's Port helper takes and does nothing.
func FloorShaped(service string, instance int32, port string) int {
	return int(C.gobench_floor_shaped(nil, service, C.int32_t(instance), port).port)
}

// Raw is a registry opened through the C API directly, with its keys as C strings.
type Raw struct {
	registry *C.pm_registry
	services []*C.char
	ports    []*C.char
	strings  []*C.char
}

// OpenRaw opens path with pm_registry_open, and makes C strings of the keys.
func OpenRaw(path string, services, ports []string) (*Raw, error) {
	r := &Raw{}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if status := C.pm_registry_open(cpath, &r.registry); status != C.PM_OK {
		return nil, fmt.Errorf("pm_registry_open: %s", C.GoString(C.pm_last_error()))
	}
	for i := range services {
		s, p := C.CString(services[i]), C.CString(ports[i])
		r.services, r.ports = append(r.services, s), append(r.ports, p)
		r.strings = append(r.strings, s, p)
	}
	return r, nil
}

// Port is pm_get_port of key i through one cgo call.
func (r *Raw) Port(i int, instance int32) int {
	return int(C.gobench_raw(r.registry, r.services[i], C.int32_t(instance), r.ports[i]))
}

// Close releases the registry and the strings.
func (r *Raw) Close() {
	C.pm_registry_close(r.registry)
	for _, s := range r.strings {
		C.free(unsafe.Pointer(s))
	}
}
