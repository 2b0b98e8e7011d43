package portmanager

// The one file that calls libportmanager. Each C helper below only marshals:
// Go strings in (copied to NUL-terminated C strings), the status and the
// out-values back by value, and, on failure, a copy of pm_last_error() taken
// in the same C call. The copy matters: the message is per OS thread, and a
// goroutine can move to another thread between two cgo calls.

/*
#cgo pkg-config: portmanager
#include <stdlib.h>
#include <string.h>
#include <portmanager.h>

// A Go string as a NUL-terminated C string: in `small` when it fits, else malloc'd.
// The Go side has already refused strings with a NUL byte inside.
typedef struct { char *p; char small[128]; } gopm_str;

static const char *gopm_str_in(gopm_str *s, _GoString_ g, int present) {
	size_t n = _GoStringLen(g);
	s->p = NULL;
	if (!present) return NULL;
	s->p = n < sizeof s->small ? s->small : (char *)malloc(n + 1);
	if (s->p == NULL) return NULL; // out of memory: the library answers PM_ERR_INVALID_ARGUMENT
	if (n > 0) memcpy(s->p, _GoStringPtr(g), n);
	s->p[n] = 0;
	return s->p;
}

static void gopm_str_free(gopm_str *s) {
	if (s->p != NULL && s->p != s->small) free(s->p);
}

// The status of a call and, on failure, a malloc'd copy of this thread's message.
typedef struct { pm_status status; char *message; } gopm_err;

static gopm_err gopm_result(pm_status status) {
	gopm_err e = {status, NULL};
	if (status != PM_OK) e.message = strdup(pm_last_error());
	return e;
}

typedef struct { pm_status status; char *message; uint16_t port; } gopm_port;

// pm_get_port: the hot path, one cgo call, no Go allocation.
static gopm_port gopm_get_port(const pm_registry *r, _GoString_ service, int32_t instance, _GoString_ port) {
	gopm_str s, p;
	gopm_port out = {PM_OK, NULL, 0};
	out.status = pm_get_port(r, gopm_str_in(&s, service, 1), instance, gopm_str_in(&p, port, 1), &out.port);
	if (out.status != PM_OK) out.message = strdup(pm_last_error());
	gopm_str_free(&s);
	gopm_str_free(&p);
	return out;
}

typedef struct { pm_status status; char *message; pm_registry *registry; } gopm_open;

static gopm_open gopm_registry_open(_GoString_ path, int has_path, _GoString_ env, int has_env) {
	gopm_str p, e;
	gopm_open out = {PM_OK, NULL, NULL};
	out.status = pm_registry_open_env(gopm_str_in(&p, path, has_path), gopm_str_in(&e, env, has_env), &out.registry);
	if (out.status != PM_OK) out.message = strdup(pm_last_error());
	gopm_str_free(&p);
	gopm_str_free(&e);
	return out;
}

static gopm_open gopm_registry_open_string(_GoString_ yaml, _GoString_ source, int has_source) {
	gopm_str s;
	gopm_open out = {PM_OK, NULL, NULL};
	// The YAML need not be NUL-terminated: the Go string's bytes are read in place.
	const char *text = _GoStringLen(yaml) > 0 ? _GoStringPtr(yaml) : "";
	out.status = pm_registry_open_string(text, _GoStringLen(yaml), gopm_str_in(&s, source, has_source), &out.registry);
	if (out.status != PM_OK) out.message = strdup(pm_last_error());
	gopm_str_free(&s);
	return out;
}

// The output protocol: each helper below takes the caller's buffer, capacity and needed.

static gopm_err gopm_service_count(const pm_registry *r, size_t *count) {
	return gopm_result(pm_service_count(r, count));
}

static gopm_err gopm_service_name(const pm_registry *r, size_t index, char *buf, size_t cap, size_t *needed) {
	return gopm_result(pm_service_name(r, index, buf, cap, needed));
}

static gopm_err gopm_registry_source(const pm_registry *r, char *buf, size_t cap, size_t *needed) {
	return gopm_result(pm_registry_source(r, buf, cap, needed));
}

static gopm_err gopm_registry_environment(const pm_registry *r, char *buf, size_t cap, size_t *needed, int32_t *offset) {
	return gopm_result(pm_registry_environment(r, buf, cap, needed, offset));
}

static gopm_err gopm_port_name(const pm_registry *r, _GoString_ service, size_t index, char *buf, size_t cap,
                               size_t *needed) {
	gopm_str s;
	gopm_err e = gopm_result(pm_port_name(r, gopm_str_in(&s, service, 1), index, buf, cap, needed));
	gopm_str_free(&s);
	return e;
}

static gopm_err gopm_get_ports(const pm_registry *r, _GoString_ service, int32_t instance, uint16_t *ports,
                               size_t cap, size_t *needed) {
	gopm_str s;
	gopm_err e = gopm_result(pm_get_ports(r, gopm_str_in(&s, service, 1), instance, ports, cap, needed));
	gopm_str_free(&s);
	return e;
}

static gopm_err gopm_name(const pm_registry *r, int volume, _GoString_ service, int32_t instance, char *buf,
                          size_t cap, size_t *needed) {
	gopm_str s;
	const char *name = gopm_str_in(&s, service, 1);
	gopm_err e = gopm_result(volume ? pm_volume_name(r, name, instance, buf, cap, needed)
	                                : pm_container_name(r, name, instance, buf, cap, needed));
	gopm_str_free(&s);
	return e;
}

static gopm_err gopm_allocation_line(const pm_registry *r, _GoString_ service, int64_t instance, _GoString_ port,
                                     char *buf, size_t cap, size_t *needed) {
	gopm_str s, p;
	gopm_err e = gopm_result(
	    pm_allocation_line(r, gopm_str_in(&s, service, 1), instance, gopm_str_in(&p, port, 1), buf, cap, needed));
	gopm_str_free(&s);
	gopm_str_free(&p);
	return e;
}

// Reservations.

typedef struct { pm_status status; char *message; int32_t value; } gopm_int;
typedef struct { pm_status status; char *message; int32_t value; int32_t fresh; } gopm_reserved;

static gopm_reserved gopm_reserve(const pm_registry *r, _GoString_ state, int has_state, _GoString_ service,
                                  int32_t instance, _GoString_ owner, int has_owner, int64_t ttl, int32_t flags) {
	gopm_str d, s, o;
	gopm_reserved out = {PM_OK, NULL, -1, 0};
	out.status = pm_reserve_instance(r, gopm_str_in(&d, state, has_state), gopm_str_in(&s, service, 1), instance,
	                                 gopm_str_in(&o, owner, has_owner), ttl, flags, &out.value, &out.fresh);
	if (out.status != PM_OK) out.message = strdup(pm_last_error());
	gopm_str_free(&d);
	gopm_str_free(&s);
	gopm_str_free(&o);
	return out;
}

static gopm_err gopm_bind_container(const pm_registry *r, _GoString_ state, int has_state, _GoString_ service,
                                    int32_t instance, _GoString_ owner, int has_owner, _GoString_ container,
                                    int has_container, int32_t flags) {
	gopm_str d, s, o, c;
	gopm_err e = gopm_result(pm_reservation_bind_container(r, gopm_str_in(&d, state, has_state),
	                                                       gopm_str_in(&s, service, 1), instance,
	                                                       gopm_str_in(&o, owner, has_owner),
	                                                       gopm_str_in(&c, container, has_container), flags));
	gopm_str_free(&d);
	gopm_str_free(&s);
	gopm_str_free(&o);
	gopm_str_free(&c);
	return e;
}

static gopm_int gopm_release(const pm_registry *r, _GoString_ state, int has_state, _GoString_ service,
                             int32_t instance, _GoString_ owner, int has_owner, int32_t flags) {
	gopm_str d, s, o;
	gopm_int out = {PM_OK, NULL, 0};
	out.status = pm_release(r, gopm_str_in(&d, state, has_state), gopm_str_in(&s, service, 1), instance,
	                        gopm_str_in(&o, owner, has_owner), flags, &out.value);
	if (out.status != PM_OK) out.message = strdup(pm_last_error());
	gopm_str_free(&d);
	gopm_str_free(&s);
	gopm_str_free(&o);
	return out;
}

static gopm_err gopm_renew(const pm_registry *r, _GoString_ state, int has_state, _GoString_ service,
                           int32_t instance, _GoString_ owner, int has_owner, int64_t ttl, int32_t flags) {
	gopm_str d, s, o;
	gopm_err e = gopm_result(pm_renew(r, gopm_str_in(&d, state, has_state), gopm_str_in(&s, service, 1), instance,
	                                  gopm_str_in(&o, owner, has_owner), ttl, flags));
	gopm_str_free(&d);
	gopm_str_free(&s);
	gopm_str_free(&o);
	return e;
}

static gopm_err gopm_reservations_json(const pm_registry *r, _GoString_ state, int has_state, _GoString_ service,
                                       int has_service, char *buf, size_t cap, size_t *needed) {
	gopm_str d, s;
	gopm_err e = gopm_result(pm_reservations_json(r, gopm_str_in(&d, state, has_state),
	                                              gopm_str_in(&s, service, has_service), buf, cap, needed));
	gopm_str_free(&d);
	gopm_str_free(&s);
	return e;
}

// Probe.

typedef struct { pm_status status; char *message; pm_probe_result *result; } gopm_probe;

static gopm_probe gopm_probe_port(int32_t port, int32_t protocols, _GoString_ host, int has_host) {
	gopm_str h;
	gopm_probe out = {PM_OK, NULL, NULL};
	out.status = pm_probe(port, protocols, gopm_str_in(&h, host, has_host), &out.result);
	if (out.status != PM_OK) out.message = strdup(pm_last_error());
	gopm_str_free(&h);
	return out;
}

static gopm_err gopm_probe_verdict(const pm_probe_result *p, int32_t *verdict, size_t *holders) {
	return gopm_result(pm_probe_result_verdict(p, verdict, holders));
}

static gopm_err gopm_probe_holder(const pm_probe_result *p, size_t index, int32_t *pid, int32_t *protocol,
                                  char *buf, size_t cap, size_t *needed) {
	return gopm_result(pm_probe_result_holder(p, index, pid, protocol, buf, cap, needed));
}

static gopm_err gopm_probe_command(const pm_probe_result *p, size_t index, char *buf, size_t cap, size_t *needed) {
	return gopm_result(pm_probe_result_command(p, index, buf, cap, needed));
}

static gopm_err gopm_probe_json(const pm_probe_result *p, char *buf, size_t cap, size_t *needed) {
	return gopm_result(pm_probe_result_json(p, buf, cap, needed));
}

// Analysis.

typedef struct { pm_status status; char *message; pm_analysis *analysis; } gopm_analysis;

static gopm_analysis gopm_analyze(const pm_registry *r, int32_t low, int32_t high, _GoString_ reserved,
                                  int has_reserved) {
	gopm_str s;
	gopm_analysis out = {PM_OK, NULL, NULL};
	out.status = pm_analyze(r, low, high, gopm_str_in(&s, reserved, has_reserved), &out.analysis);
	if (out.status != PM_OK) out.message = strdup(pm_last_error());
	gopm_str_free(&s);
	return out;
}

static gopm_err gopm_analysis_count(const pm_analysis *a, size_t *count, size_t *errors, size_t *warnings) {
	return gopm_result(pm_analysis_count(a, count, errors, warnings));
}

static gopm_err gopm_analysis_finding(const pm_analysis *a, size_t index, int32_t *severity, char *buf, size_t cap,
                                      size_t *needed) {
	return gopm_result(pm_analysis_finding(a, index, severity, buf, cap, needed));
}

static gopm_err gopm_analysis_json(const pm_analysis *a, char *buf, size_t cap, size_t *needed) {
	return gopm_result(pm_analysis_json(a, buf, cap, needed));
}

static gopm_err gopm_set_log_level(int32_t level) {
	return gopm_result(pm_set_log_level(level));
}
*/
import "C"

import (
	"unsafe"
)

// cError turns a helper's status and message copy into a Go error (nil for
// PM_OK), freeing the copy.
func cError(status C.pm_status, message *C.char) error {
	if status == C.PM_OK {
		return nil
	}
	e := &Error{Status: Status(status)}
	if message != nil {
		e.Message = C.GoString(message)
		C.free(unsafe.Pointer(message))
	}
	return e
}

func errOf(e C.gopm_err) error { return cError(e.status, e.message) }

func flag(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// readText runs the output protocol for a string result: a first try in a
// small buffer, then one of the size the library asked for, as often as the
// result grows between calls (the reservation store can change meanwhile).
func readText(call func(buf *C.char, capacity C.size_t, needed *C.size_t) C.gopm_err) (string, error) {
	buf := make([]byte, 256)
	for {
		var needed C.size_t
		e := call((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &needed)
		if e.status == C.PM_ERR_BUFFER_TOO_SMALL && int(needed) > len(buf) {
			C.free(unsafe.Pointer(e.message))
			buf = make([]byte, int(needed))
			continue
		}
		if err := errOf(e); err != nil {
			return "", err
		}
		if needed == 0 {
			return "", nil
		}
		return string(buf[:needed-1]), nil // needed counts the terminating NUL
	}
}

// ---------------------------------------------------------------- version

func libraryABI() (library, header uint32) {
	return uint32(C.pm_abi_version()), uint32(C.PM_ABI_VERSION)
}

func libraryVersion() string { return C.GoString(C.pm_version_string()) }

func headerVersion() string { return C.PM_VERSION_STRING }

func statusName(s Status) string { return C.GoString(C.pm_status_str(C.pm_status(s))) }

// Log levels of SetLogLevel: the header's pm_log_level.
const (
	LogDebug   = int(C.PM_LOG_DEBUG)
	LogInfo    = int(C.PM_LOG_INFO)
	LogWarning = int(C.PM_LOG_WARNING)
	LogError   = int(C.PM_LOG_ERROR)
	LogOff     = int(C.PM_LOG_OFF) // as a threshold only: log nothing
)

// infoLogged tells whether the library's threshold lets allocations (PM_LOG_INFO) through.
func infoLogged() bool { return C.pm_get_log_level() <= C.PM_LOG_INFO }

func setLogLevel(level int32) error { return errOf(C.gopm_set_log_level(C.int32_t(level))) }

// ---------------------------------------------------------------- registry

type cRegistry = *C.pm_registry

func cOpen(path string, hasPath bool, env string, hasEnv bool) (cRegistry, error) {
	r := C.gopm_registry_open(path, flag(hasPath), env, flag(hasEnv))
	return r.registry, cError(r.status, r.message)
}

func cOpenString(yaml, source string, hasSource bool) (cRegistry, error) {
	r := C.gopm_registry_open_string(yaml, source, flag(hasSource))
	return r.registry, cError(r.status, r.message)
}

func cClose(h cRegistry) { C.pm_registry_close(h) }

func cSource(h cRegistry) (string, error) {
	return readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err { return C.gopm_registry_source(h, b, c, n) })
}

func cEnvironment(h cRegistry) (string, int, error) {
	var offset C.int32_t
	name, err := readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
		return C.gopm_registry_environment(h, b, c, n, &offset)
	})
	return name, int(offset), err
}

func cServices(h cRegistry) ([]string, error) {
	var count C.size_t
	if err := errOf(C.gopm_service_count(h, &count)); err != nil {
		return nil, err
	}
	names := make([]string, 0, int(count))
	for i := C.size_t(0); i < count; i++ {
		name, err := readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
			return C.gopm_service_name(h, i, b, c, n)
		})
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

func cPortName(h cRegistry, service string, index int) (string, error) {
	return readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
		return C.gopm_port_name(h, service, C.size_t(index), b, c, n)
	})
}

func cGetPort(h cRegistry, service string, instance int32, port string) (int, error) {
	r := C.gopm_get_port(h, service, C.int32_t(instance), port)
	if r.status != C.PM_OK {
		return 0, cError(r.status, r.message)
	}
	return int(r.port), nil
}

func cGetPorts(h cRegistry, service string, instance int32) ([]uint16, error) {
	ports := make([]uint16, 8)
	for {
		var needed C.size_t
		e := C.gopm_get_ports(h, service, C.int32_t(instance), (*C.uint16_t)(unsafe.Pointer(&ports[0])),
			C.size_t(len(ports)), &needed)
		if e.status == C.PM_ERR_BUFFER_TOO_SMALL && int(needed) > len(ports) {
			C.free(unsafe.Pointer(e.message))
			ports = make([]uint16, int(needed))
			continue
		}
		if err := errOf(e); err != nil {
			return nil, err
		}
		return ports[:int(needed)], nil
	}
}

func cName(h cRegistry, volume bool, service string, instance int32) (string, error) {
	return readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
		return C.gopm_name(h, flag(volume), service, C.int32_t(instance), b, c, n)
	})
}

func cAllocationLine(h cRegistry, service string, instance int64, port string) (string, error) {
	return readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
		return C.gopm_allocation_line(h, service, C.int64_t(instance), port, b, c, n)
	})
}

// ------------------------------------------------------------ reservations

// The flags of pm_reserve_instance, pm_release, pm_renew and pm_reservation_bind_container, from the header.
const (
	flagNoProbe        = int32(C.PM_RESERVE_NO_PROBE)
	flagForce          = int32(C.PM_RESERVE_FORCE)
	flagContainerOwner = int32(C.PM_RESERVE_CONTAINER_OWNER)
)

func cReserve(h cRegistry, state string, service string, instance int32, owner string, hasOwner bool,
	ttl int64, flags int32) (Reserved, error) {
	r := C.gopm_reserve(h, state, flag(state != ""), service, C.int32_t(instance), owner, flag(hasOwner),
		C.int64_t(ttl), C.int32_t(flags))
	return Reserved{Instance: int(r.value), Fresh: r.fresh == 1}, cError(r.status, r.message)
}

func cBindContainer(h cRegistry, state string, service string, instance int32, owner string, hasOwner bool,
	container string, flags int32) error {
	return errOf(C.gopm_bind_container(h, state, flag(state != ""), service, C.int32_t(instance), owner, flag(hasOwner),
		container, flag(container != ""), C.int32_t(flags)))
}

func cRelease(h cRegistry, state string, service string, instance int32, owner string, hasOwner bool,
	flags int32) (bool, error) {
	r := C.gopm_release(h, state, flag(state != ""), service, C.int32_t(instance), owner, flag(hasOwner),
		C.int32_t(flags))
	return r.value == 1, cError(r.status, r.message)
}

func cRenew(h cRegistry, state string, service string, instance int32, owner string, hasOwner bool,
	ttl int64, flags int32) error {
	return errOf(C.gopm_renew(h, state, flag(state != ""), service, C.int32_t(instance), owner, flag(hasOwner),
		C.int64_t(ttl), C.int32_t(flags)))
}

func cReservationsJSON(h cRegistry, state string, service string) (string, error) {
	return readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
		return C.gopm_reservations_json(h, state, flag(state != ""), service, flag(service != ""), b, c, n)
	})
}

// ------------------------------------------------------------------ probe

func cProbe(port int32, protocols int32, host string) (*ProbeResult, error) {
	r := C.gopm_probe_port(C.int32_t(port), C.int32_t(protocols), host, flag(host != ""))
	if err := cError(r.status, r.message); err != nil {
		return nil, err
	}
	defer C.pm_probe_result_free(r.result)
	p := r.result
	var verdict C.int32_t
	var count C.size_t
	if err := errOf(C.gopm_probe_verdict(p, &verdict, &count)); err != nil {
		return nil, err
	}
	out := &ProbeResult{Port: int(port), Verdict: Verdict(verdict)}
	for i := C.size_t(0); i < count; i++ {
		var pid, protocol C.int32_t
		address, err := readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
			return C.gopm_probe_holder(p, i, &pid, &protocol, b, c, n)
		})
		if err != nil {
			return nil, err
		}
		command, err := readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
			return C.gopm_probe_command(p, i, b, c, n)
		})
		if err != nil {
			return nil, err
		}
		out.Holders = append(out.Holders, Holder{PID: int(pid), Protocol: Protocol(protocol), Address: address,
			Command: command})
	}
	json, err := readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err { return C.gopm_probe_json(p, b, c, n) })
	if err != nil {
		return nil, err
	}
	out.JSON = json
	return out, nil
}

// ---------------------------------------------------------------- analysis

func cAnalyze(h cRegistry, low, high int32, reserved string, hasReserved bool) (*Analysis, error) {
	r := C.gopm_analyze(h, C.int32_t(low), C.int32_t(high), reserved, flag(hasReserved))
	if err := cError(r.status, r.message); err != nil {
		return nil, err
	}
	defer C.pm_analysis_free(r.analysis)
	a := r.analysis
	var count, errs, warnings C.size_t
	if err := errOf(C.gopm_analysis_count(a, &count, &errs, &warnings)); err != nil {
		return nil, err
	}
	out := &Analysis{Errors: int(errs), Warnings: int(warnings), Findings: make([]Finding, 0, int(count))}
	for i := C.size_t(0); i < count; i++ {
		var severity C.int32_t
		text, err := readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err {
			return C.gopm_analysis_finding(a, i, &severity, b, c, n)
		})
		if err != nil {
			return nil, err
		}
		out.Findings = append(out.Findings, Finding{Severity: Severity(severity), Text: text})
	}
	json, err := readText(func(b *C.char, c C.size_t, n *C.size_t) C.gopm_err { return C.gopm_analysis_json(a, b, c, n) })
	if err != nil {
		return nil, err
	}
	out.JSON = json
	return out, nil
}
