package portmanager

import (
	"strings"
	"testing"
)

func TestCheckFindsCollisions(t *testing.T) {
	pm, err := OpenString("web:\n  port: 7000\n  max_instances: 3\napi:\n  port: 7100\n  max_instances: 3\n", "clash.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	analysis, err := pm.Check(&CheckOptions{NoEphemeral: true})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if analysis.ConflictFree() || analysis.Errors == 0 || len(analysis.Findings) == 0 {
		t.Fatalf("web instance 1 and api instance 0 share 7100, yet: %+v", analysis)
	}
	f := analysis.Findings[0]
	if f.Severity != SeverityError || !strings.HasPrefix(f.Text, "clash.yaml:") || !strings.Contains(f.Text, "7100") {
		t.Fatalf("finding: %v %q", f.Severity, f.Text)
	}
	if !strings.Contains(analysis.JSON, "collision") {
		t.Fatalf("JSON: %s", analysis.JSON)
	}
}

func TestCheckWarningsAndOptions(t *testing.T) {
	pm, err := OpenString("web:\n  port: 80\n  max_instances: 1\napp:\n  port: 40000\n  max_instances: 1\n", "clean.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	analysis, err := pm.Check(&CheckOptions{EphemeralLow: 32768, EphemeralHigh: 60999})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if !analysis.ConflictFree() || analysis.Warnings != 2 {
		t.Fatalf("a privileged and an ephemeral port: %+v", analysis)
	}
	exempt, err := pm.Check(&CheckOptions{EphemeralLow: 32768, EphemeralHigh: 60999, ReservedPorts: "40000"})
	if err != nil || exempt.Warnings != 1 {
		t.Fatalf("with 40000 reserved: %+v, %v", exempt, err)
	}
	_, err = pm.Check(&CheckOptions{EphemeralLow: 5000, EphemeralHigh: 10})
	wantError(t, err, ErrInvalidArgument, "5000")
	_, err = pm.Check(&CheckOptions{EphemeralLow: 32768, EphemeralHigh: 60999, ReservedPorts: "abc"})
	wantError(t, err, ErrInvalidArgument, "abc")
}
