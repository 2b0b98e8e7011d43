// Package portmanager is the Go binding of libportmanager: conflict-free host
// ports, container names and volume names for side-by-side service instances,
// from one YAML registry, plus the reservation store, the port probe and the
// whole-registry check.
//
//	final_port = base_port + instance_id * instance_increment (+ environment offset)
//
// It calls the one implementation (libportmanager.so, include/portmanager.h)
// through cgo; cgo finds the library with pkg-config (package portmanager).
// From a checkout, scripts/go-env.sh points pkg-config at the build tree
// (docs/go.md).
//
// # Errors
//
// Every failure the library reports is an *Error carrying its Status and the
// library's message, which names the culprit (file:line:column, service,
// port, instance). Each Status is also an error value, so
//
//	if errors.Is(err, portmanager.ErrUnknownService) { ... }
//
// works as with syscall.Errno. The status numbers are the header's
// (C.PM_ERR_...): they are written once, in include/portmanager.h.
// Bad arguments caught before the library is called (a NUL byte in a name, an
// instance or port outside the C types, a nil or closed *Registry) are
// ErrInvalidArgument errors with a message naming the argument.
//
// # Threads
//
// A *Registry may be used by any number of goroutines at once: the C registry
// is immutable once opened. Close waits for the calls in progress and makes
// later calls fail with ErrInvalidArgument; it never frees the handle under a
// call. The library keeps the message of a failure per OS thread
// (pm_last_error), and a goroutine may move to another OS thread between two
// cgo calls, so the binding reads the message inside the same C call that
// failed (a C helper copies it before returning to Go).
//
// Port remembers the library's answers (successes only): a repeated question
// is answered from a Go map after one cgo call that reads the log threshold;
// while INFO is on, every call goes to the library, which logs it.
//
// # Ownership
//
// Nothing returned by this package needs freeing: strings, probe results and
// analyses are copied into Go values and the C objects released before the
// function returns. Only a *Registry holds C memory, until Close; there are no
// finalizers, so a Registry that is never closed is never freed.
package portmanager
