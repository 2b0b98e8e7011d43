package portmanager

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestProbeInUse(t *testing.T) {
	listener, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.1: %v", err)
	}
	defer listener.Close()
	port := listener.Addr().(*net.TCPAddr).Port
	result, err := Probe(port, TCP, "127.0.0.1")
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if result.Verdict != VerdictInUse || result.Port != port {
		t.Fatalf("verdict %v for a port this process listens on: %s", result.Verdict, result.JSON)
	}
	found := false
	for _, h := range result.Holders {
		if h.PID == os.Getpid() && h.Protocol == TCP && strings.HasSuffix(h.Address, ":"+strconv.Itoa(port)) {
			found = true
		}
	}
	if !found {
		t.Fatalf("this process is not among the holders: %+v", result.Holders)
	}
	if !strings.Contains(result.JSON, `"verdict": "in use"`) && !strings.Contains(result.JSON, `"verdict":"in use"`) {
		t.Fatalf("JSON: %s", result.JSON)
	}
}

func TestProbeBadArguments(t *testing.T) {
	_, err := Probe(0, TCP, "")
	wantError(t, err, ErrInvalidArgument, "0")
	_, err = Probe(70000, TCP, "")
	wantError(t, err, ErrInvalidArgument, "70000")
	_, err = Probe(1<<40, TCP, "")
	wantError(t, err, ErrInvalidArgument, "1099511627776")
	_, err = Probe(8080, Protocol(7), "")
	wantError(t, err, ErrInvalidArgument, "7")
	_, err = Probe(8080, TCP, "localhost")
	wantError(t, err, ErrInvalidArgument, "localhost")
	_, err = Probe(8080, TCP, "127.0.0.1\x00")
	wantError(t, err, ErrInvalidArgument, "host", "NUL")
	if TCPAndUDP.String() != "tcp+udp" || VerdictInUse.String() != "in use" {
		t.Fatalf("names: %v %v", TCPAndUDP, VerdictInUse)
	}
}
