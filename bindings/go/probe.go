package portmanager

// #include <portmanager.h>
import "C"

import (
	"fmt"
	"strings"
)

// Protocol is a set of protocols of a probe (pm_protocol).
type Protocol int32

// The protocols, from the header.
const (
	TCP       Protocol = C.PM_PROTOCOL_TCP
	UDP       Protocol = C.PM_PROTOCOL_UDP
	TCPAndUDP Protocol = C.PM_PROTOCOL_BOTH // the registry's tcp+udp
)

// String is "tcp", "udp" or "tcp+udp".
func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case TCPAndUDP:
		return "tcp+udp"
	}
	return fmt.Sprintf("Protocol(%d)", int32(p))
}

// Verdict is the answer of a probe (pm_probe_verdict).
type Verdict int32

// The verdicts, from the header; they equal the exit codes of `portmanager probe`.
const (
	VerdictFree    Verdict = C.PM_PROBE_FREE    // every protocol and family can be bound
	VerdictInUse   Verdict = C.PM_PROBE_IN_USE  // some protocol or family is taken; see the holders
	VerdictUnknown Verdict = C.PM_PROBE_UNKNOWN // cannot tell; the JSON's "notes" say why
)

// String is "free", "in use" or "unknown".
func (v Verdict) String() string {
	switch v {
	case VerdictFree:
		return "free"
	case VerdictInUse:
		return "in use"
	case VerdictUnknown:
		return "unknown"
	}
	return fmt.Sprintf("Verdict(%d)", int32(v))
}

// Holder is a socket that holds a probed port.
type Holder struct {
	PID      int      // the process; -1 when this user cannot see it
	Protocol Protocol // TCP or UDP
	Address  string   // the socket's local address and port: "0.0.0.0:9092", "[::1]:6831"
	Command  string   // the process's command name; "" when not visible
}

// ProbeResult is a snapshot of one port, fixed when probed.
type ProbeResult struct {
	Port    int
	Verdict Verdict
	Holders []Holder
	// JSON is the whole result as `portmanager probe --json` prints it,
	// notes included.
	JSON string
}

// Probe tells whether a port can be bound now, the way Docker publishes
// ports (pm_probe): for each protocol asked, on 0.0.0.0 and [::], or on host
// only when it is not "" (a numeric IPv4 or IPv6 address). When the port is
// in use, the result lists its holders.
//
// Errors: ErrInvalidArgument (port outside 1..65535, a bad protocol set, a
// host that is not a numeric address), ErrIO (the socket tables cannot be read).
func Probe(port int, protocols Protocol, host string) (*ProbeResult, error) {
	if !fitsInt32(port) {
		return nil, invalid(fmt.Sprintf("port %d is outside 1..65535", port))
	}
	if strings.IndexByte(host, 0) >= 0 {
		return nil, invalid(fmt.Sprintf("host %q contains a NUL byte", host))
	}
	return cProbe(int32(port), int32(protocols), host)
}
