package portmanager

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// Registry is an opened, validated port registry. Its methods may be called
// from any number of goroutines at once. Release it with Close; there is no
// finalizer.
type Registry struct {
	mu     sync.RWMutex // held for reading by every call, for writing by Close
	handle cRegistry    // nil once closed

	// The answers of Port, each asked of the library once: a registry is
	// immutable, so the same question always has the same answer. Only
	// successes are kept, so the map is bounded by the registry's
	// (service, instance, port) lattice.
	portsMu sync.RWMutex
	ports   map[portKey]uint16
}

type portKey struct {
	service  string
	instance int
	port     string
}

// NamedPort is one host port of an instance: the port's name in the registry
// ("broker_port") and its host port (a range's first port).
type NamedPort struct {
	Name string
	Port int
}

// Version is the loaded library's version string, such as "0.1.0".
func Version() string { return libraryVersion() }

// checkABI refuses a library whose ABI is not the one of the header cgo compiled against.
func checkABI() error {
	library, header := libraryABI()
	if library != header {
		return invalid(fmt.Sprintf("libportmanager has ABI %d, but this package was built against ABI %d "+
			"(include/portmanager.h): rebuild it against the library it loads", library, header))
	}
	return nil
}

// noNUL refuses a string the C API cannot carry: C strings end at the first NUL byte.
func noNUL(what, value string) error {
	if strings.IndexByte(value, 0) >= 0 {
		return invalid(fmt.Sprintf("%s %q contains a NUL byte", what, value))
	}
	return nil
}

// Open opens and validates a registry file (pm_registry_open). An empty path
// means the default: $PORTMANAGER_REGISTRY, then
// ./dynamicconfig/port_registry.yaml. The environment named by
// $PORTMANAGER_ENV, when set, is selected.
func Open(path string) (*Registry, error) { return OpenEnv(path, "") }

// OpenEnv is Open selecting an environment of the registry's _environments,
// whose offset is added to every host port; "" means $PORTMANAGER_ENV (or none).
func OpenEnv(path, environment string) (*Registry, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	if err := noNUL("registry path", path); err != nil {
		return nil, err
	}
	if err := noNUL("environment", environment); err != nil {
		return nil, err
	}
	h, err := cOpen(path, path != "", environment, environment != "")
	if err != nil {
		return nil, err
	}
	return &Registry{handle: h}, nil
}

// OpenString parses and validates a registry held in memory
// (pm_registry_open_string); no environment is selected. source names it in
// messages in place of a file path ("" gives "<memory>").
func OpenString(yaml, source string) (*Registry, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	if err := noNUL("source", source); err != nil {
		return nil, err
	}
	h, err := cOpenString(yaml, source, source != "")
	if err != nil {
		return nil, err
	}
	return &Registry{handle: h}, nil
}

// Close releases the registry, after the calls in progress on it return.
// Later calls on it fail with ErrInvalidArgument. Closing twice, or a nil
// *Registry, is a no-op.
func (r *Registry) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	h := r.handle
	r.handle = nil
	r.portsMu.Lock()
	r.ports = nil
	r.portsMu.Unlock()
	r.mu.Unlock()
	if h != nil {
		cClose(h)
	}
	return nil
}

// acquire gives the handle with the read lock held; the caller releases it
// with r.mu.RUnlock() once its C calls are done.
func (r *Registry) acquire() (cRegistry, error) {
	if r == nil {
		return nil, invalid("the *portmanager.Registry is nil; open one with Open or OpenString")
	}
	r.mu.RLock()
	if r.handle == nil {
		r.mu.RUnlock()
		return nil, invalid("the portmanager.Registry is closed")
	}
	return r.handle, nil
}

// Source is where the registry was read from: the file path, or the source
// name given to OpenString.
func (r *Registry) Source() (string, error) {
	h, err := r.acquire()
	if err != nil {
		return "", err
	}
	defer r.mu.RUnlock()
	return cSource(h)
}

// Environment is the environment in force ("" for none) and its port offset.
func (r *Registry) Environment() (name string, offset int, err error) {
	h, err := r.acquire()
	if err != nil {
		return "", 0, err
	}
	defer r.mu.RUnlock()
	return cEnvironment(h)
}

// Services lists the service names, in file order.
func (r *Registry) Services() ([]string, error) {
	h, err := r.acquire()
	if err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	return cServices(h)
}

// fitsInt32 tells whether an instance can be given to the C functions that take an int32_t.
func fitsInt32(instance int) bool {
	return int64(instance) >= math.MinInt32 && int64(instance) <= math.MaxInt32
}

// wideInstance is the error for an instance outside int32_t, which is out of
// range for every service (max_instances fits in one). The library forms it
// through pm_allocation_line, which takes an int64_t, so the message names the
// caller's value, and an unknown service or port is reported first, in the
// order pm_get_port checks them. port "" means any port of the service.
func wideInstance(h cRegistry, service string, instance int, port string) error {
	if port == "" {
		name, err := cPortName(h, service, 0)
		if err != nil {
			return err
		}
		port = name
	}
	if _, err := cAllocationLine(h, service, int64(instance), port); err != nil {
		return err
	}
	return &Error{Status: ErrInstanceOutOfRange,
		Message: fmt.Sprintf("instance %d of service '%s' is out of range", instance, service)}
}

// Port is the host port of one named port of one instance of a service:
// base + instance * increment (+ the environment's offset); a range's first
// port. port is "port" for single-port services.
//
// Each allocation is logged by the library at INFO when its threshold allows
// (SetLogLevel). The binding remembers the answers of the library: a repeated
// question is answered from a Go map, with one cgo call to read the log
// threshold; when INFO is on, every call goes to the library, which logs it.
//
// Errors: ErrUnknownService, ErrUnknownPort, ErrInstanceOutOfRange (the
// message gives the allowed range), ErrInvalidArgument.
func (r *Registry) Port(service string, instance int, port string) (int, error) {
	h, err := r.acquire()
	if err != nil {
		return 0, err
	}
	defer r.mu.RUnlock()
	// A remembered answer: it passed every check below when it was asked.
	r.portsMu.RLock()
	answer, known := r.ports[portKey{service, instance, port}]
	r.portsMu.RUnlock()
	if known && !infoLogged() {
		return int(answer), nil
	}
	if err := noNUL("service", service); err != nil {
		return 0, err
	}
	if err := noNUL("port", port); err != nil {
		return 0, err
	}
	if !fitsInt32(instance) {
		return 0, wideInstance(h, service, instance, port)
	}
	got, err := cGetPort(h, service, int32(instance), port)
	if err != nil || known {
		return got, err
	}
	// Copies of the names, so that the map does not keep the caller's memory alive.
	key := portKey{strings.Clone(service), instance, strings.Clone(port)}
	r.portsMu.Lock()
	if r.ports == nil {
		r.ports = map[portKey]uint16{}
	}
	r.ports[key] = uint16(got)
	r.portsMu.Unlock()
	return got, nil
}

// Ports is every host port of one instance, in the registry's order
// (a range gives its first port).
func (r *Registry) Ports(service string, instance int) ([]NamedPort, error) {
	if err := noNUL("service", service); err != nil {
		return nil, err
	}
	h, err := r.acquire()
	if err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	if !fitsInt32(instance) {
		return nil, wideInstance(h, service, instance, "")
	}
	ports, err := cGetPorts(h, service, int32(instance))
	if err != nil {
		return nil, err
	}
	out := make([]NamedPort, len(ports))
	for i, p := range ports {
		name, err := cPortName(h, service, i)
		if err != nil {
			return nil, err
		}
		out[i] = NamedPort{Name: name, Port: int(p)}
	}
	return out, nil
}

func (r *Registry) name(volume bool, service string, instance int) (string, error) {
	if err := noNUL("service", service); err != nil {
		return "", err
	}
	h, err := r.acquire()
	if err != nil {
		return "", err
	}
	defer r.mu.RUnlock()
	if !fitsInt32(instance) {
		return "", wideInstance(h, service, instance, "")
	}
	return cName(h, volume, service, int32(instance))
}

// ContainerName is the container name of an instance: the service's
// container stem for instance 0 ("kafka-development"), "STEM-N" for
// instance N ("kafka-development-1").
func (r *Registry) ContainerName(service string, instance int) (string, error) {
	return r.name(false, service, instance)
}

// VolumeName is the volume name of an instance: "kafka-data", "kafka-data-1", ...
func (r *Registry) VolumeName(service string, instance int) (string, error) {
	return r.name(true, service, instance)
}

// AllocationLine is the line the library logs at INFO for one allocation,
// without logging it: "port_manager_port_allocated service=kafka instance=1
// type=broker_port port=9192 base=9092 increment=100".
func (r *Registry) AllocationLine(service string, instance int64, port string) (string, error) {
	if err := noNUL("service", service); err != nil {
		return "", err
	}
	if err := noNUL("port", port); err != nil {
		return "", err
	}
	h, err := r.acquire()
	if err != nil {
		return "", err
	}
	defer r.mu.RUnlock()
	return cAllocationLine(h, service, instance, port)
}

// SetLogLevel sets the library's process-wide threshold (pm_set_log_level):
// messages below level (LogDebug ... LogOff) are dropped. The library's default
// sink writes to stderr; the default threshold, from $PORTMANAGER_LOG, is
// LogWarning, so allocations are silent unless asked for.
func SetLogLevel(level int) error {
	if !fitsInt32(level) {
		return invalid(fmt.Sprintf("log level %d is outside int32", level))
	}
	return setLogLevel(int32(level))
}
