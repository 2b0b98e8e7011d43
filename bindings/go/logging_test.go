package portmanager

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// captureStderr runs fn with file descriptor 2 (where the library's default
// log sink writes) sent to a temporary file, and returns what was written.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	file, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(saved)
	if err := syscall.Dup2(int(file.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	func() {
		defer syscall.Dup2(saved, 2)
		fn()
	}()
	data, err := os.ReadFile(file.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Port remembers answers, yet with INFO on every allocation is logged by the
// library, a repeated one too; with the default threshold none is.
func TestPortLogsEveryAllocationWhenInfoIsOn(t *testing.T) {
	pm := openKafka(t)
	if err := SetLogLevel(LogWarning); err != nil { // the default, whatever $PORTMANAGER_LOG says
		t.Fatal(err)
	}
	const line = "port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 increment=100"
	quiet := captureStderr(t, func() {
		for i := 0; i < 3; i++ {
			if port, err := pm.Port("kafka", 1, "broker_port"); err != nil || port != 9192 {
				t.Errorf("Port: %d, %v", port, err)
			}
		}
	})
	if strings.Contains(quiet, "port_manager_port_allocated") {
		t.Fatalf("logged below the threshold: %q", quiet)
	}
	if err := SetLogLevel(LogInfo); err != nil {
		t.Fatal(err)
	}
	defer SetLogLevel(LogWarning)
	logged := captureStderr(t, func() {
		for i := 0; i < 3; i++ { // remembered since the calls above
			if port, err := pm.Port("kafka", 1, "broker_port"); err != nil || port != 9192 {
				t.Errorf("Port: %d, %v", port, err)
			}
		}
	})
	if n := strings.Count(logged, line); n != 3 {
		t.Fatalf("%d lines of %q in %q", n, line, logged)
	}
}
