package portmanager

// #include <portmanager.h>
import "C"

import "fmt"

// Severity is how serious a finding of Check is (pm_severity).
type Severity int32

// The severities, from the header.
const (
	SeverityNote    Severity = C.PM_SEVERITY_NOTE    // worth knowing; never fails a check
	SeverityWarning Severity = C.PM_SEVERITY_WARNING // works, but risky (privileged or ephemeral port)
	SeverityError   Severity = C.PM_SEVERITY_ERROR   // the registry cannot be used as written
)

// String is "note", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case SeverityNote:
		return "note"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return fmt.Sprintf("Severity(%d)", int32(s))
}

// Finding is one finding of Check.
type Finding struct {
	Severity Severity
	// Text is the finding as compilers print them:
	// "FILE:LINE:COLUMN: error: MESSAGE; fix: SUGGESTION".
	Text string
}

// Analysis is the result of Check.
type Analysis struct {
	Findings []Finding // ordered by source location, then severity
	Errors   int
	Warnings int
	// JSON is the whole analysis (schema in docs/analysis.md).
	JSON string
}

// ConflictFree tells whether the analysis found no error.
func (a *Analysis) ConflictFree() bool { return a.Errors == 0 }

// CheckOptions are the optional arguments of Check; nil reads the ephemeral
// range and the reserved ports from the kernel.
type CheckOptions struct {
	// EphemeralLow and EphemeralHigh are the kernel's ephemeral port range
	// (1 <= low <= high <= 65535); both 0 read
	// /proc/sys/net/ipv4/ip_local_port_range.
	EphemeralLow, EphemeralHigh int
	// NoEphemeral skips the ephemeral check.
	NoEphemeral bool
	// ReservedPorts are exempt from the ephemeral check, in the syntax of
	// ip_local_reserved_ports ("8080,9000-9100"). "" reads that file when the
	// range is read from the kernel, and means none otherwise.
	ReservedPorts string
}

// Check analyzes the whole registry (pm_analyze), as `portmanager check`
// does: every port of every instance of every service, with no environment
// and with each environment, for collisions, bad offsets, privileged ports
// and ports in the ephemeral range.
//
// Errors: ErrInvalidArgument (a bad range or reserved list; the message names
// it), ErrIO (a /proc file cannot be read), ErrTooLarge (the lattice is past
// the analysis limit of docs/analysis.md).
func (r *Registry) Check(opts *CheckOptions) (*Analysis, error) {
	if opts == nil {
		opts = &CheckOptions{}
	}
	low, high := opts.EphemeralLow, opts.EphemeralHigh
	if opts.NoEphemeral {
		low, high = -1, -1
	}
	if !fitsInt32(low) || !fitsInt32(high) {
		return nil, invalid(fmt.Sprintf("ephemeral range %d-%d is outside 1..65535", low, high))
	}
	if err := noNUL("reserved ports", opts.ReservedPorts); err != nil {
		return nil, err
	}
	h, err := r.acquire()
	if err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	return cAnalyze(h, int32(low), int32(high), opts.ReservedPorts, opts.ReservedPorts != "")
}
