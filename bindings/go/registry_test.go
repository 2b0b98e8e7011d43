package portmanager

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const kafkaYAML = `kafka:
  broker_port: 9092
  controller_port: 19093
  instance_increment: 100
  max_instances: 10
  container_name: kafka-development
  volume_name: kafka-data
`

func openKafka(t *testing.T) *Registry {
	t.Helper()
	pm, err := OpenString(kafkaYAML, "kafka.yaml")
	if err != nil {
		t.Fatalf("OpenString: %v", err)
	}
	t.Cleanup(func() { pm.Close() })
	return pm
}

// wantError asserts err is an *Error of status want whose message contains every text.
func wantError(t *testing.T, err error, want Status, texts ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("expected a *portmanager.Error of %v, got %v (%T)", want, err, err)
	}
	if !errors.Is(err, want) || e.Status != want {
		t.Fatalf("expected %v, got %v: %v", want, e.Status, err)
	}
	for _, text := range texts {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("%q does not contain %q", err.Error(), text)
		}
	}
}

// Every status the loaded library names has its constant here, each once.
func TestStatusesAreTheHeaders(t *testing.T) {
	if got := statusOK.String(); got != "PM_OK" {
		t.Fatalf("status 0 is %q", got)
	}
	library := map[Status]bool{}
	for s := Status(1); s.String() != "PM_ERR_UNKNOWN_STATUS"; s++ {
		library[s] = true
	}
	ours := map[Status]bool{}
	for _, s := range knownStatuses {
		if ours[s] {
			t.Errorf("%v listed twice", s)
		}
		ours[s] = true
		if !library[s] {
			t.Errorf("the library does not name status %d (%v)", int32(s), s)
		}
	}
	for s := range library {
		if !ours[s] {
			t.Errorf("the library names %v (%d), which has no constant in errors.go", s, int32(s))
		}
	}
	if ErrUnknownService.String() != "PM_ERR_UNKNOWN_SERVICE" || ErrState.String() != "PM_ERR_STATE" {
		t.Errorf("names: %v %v", ErrUnknownService, ErrState)
	}
}

func TestErrorsIsAndAs(t *testing.T) {
	pm := openKafka(t)
	_, err := pm.Port("kafak", 0, "broker_port")
	wrapped := fmt.Errorf("starting kafka: %w", err)
	if !errors.Is(wrapped, ErrUnknownService) {
		t.Fatalf("errors.Is(%v, ErrUnknownService) is false", wrapped)
	}
	if errors.Is(wrapped, ErrUnknownPort) {
		t.Fatalf("errors.Is(%v, ErrUnknownPort) is true", wrapped)
	}
	var e *Error
	if !errors.As(wrapped, &e) || e.Status != ErrUnknownService {
		t.Fatalf("errors.As: %#v", e)
	}
	if e.Message != "unknown service 'kafak'; did you mean 'kafka'?" {
		t.Fatalf("message %q", e.Message)
	}
	if err.Error() != "portmanager: "+e.Message {
		t.Fatalf("Error() %q", err.Error())
	}
	if (&Error{Status: ErrIO}).Error() != "portmanager: PM_ERR_IO" {
		t.Fatalf("an error without a message: %q", (&Error{Status: ErrIO}).Error())
	}
}

func TestAllocation(t *testing.T) {
	pm := openKafka(t)
	if port, err := pm.Port("kafka", 1, "broker_port"); err != nil || port != 9192 {
		t.Fatalf("Port: %d, %v", port, err)
	}
	ports, err := pm.Ports("kafka", 2)
	want := []NamedPort{{"broker_port", 9292}, {"controller_port", 19293}}
	if err != nil || !reflect.DeepEqual(ports, want) {
		t.Fatalf("Ports: %v, %v", ports, err)
	}
	if name, err := pm.ContainerName("kafka", 1); err != nil || name != "kafka-development-1" {
		t.Fatalf("ContainerName: %q, %v", name, err)
	}
	if name, err := pm.VolumeName("kafka", 0); err != nil || name != "kafka-data" {
		t.Fatalf("VolumeName: %q, %v", name, err)
	}
	if names, err := pm.Services(); err != nil || !reflect.DeepEqual(names, []string{"kafka"}) {
		t.Fatalf("Services: %v, %v", names, err)
	}
	if source, err := pm.Source(); err != nil || source != "kafka.yaml" {
		t.Fatalf("Source: %q, %v", source, err)
	}
	if name, offset, err := pm.Environment(); err != nil || name != "" || offset != 0 {
		t.Fatalf("Environment: %q %d %v", name, offset, err)
	}
	line, err := pm.AllocationLine("kafka", 1, "broker_port")
	if err != nil || line != "port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 increment=100" {
		t.Fatalf("AllocationLine: %q, %v", line, err)
	}
}

// A name longer than the C helper's stack buffer goes through its heap path.
func TestLongNames(t *testing.T) {
	long := strings.Repeat("s", 200) // past the C helper's 128-byte stack buffer
	pm, err := OpenString(long+":\n  port: 7000\n", strings.Repeat("f", 200)+".yaml")
	if err != nil {
		t.Fatalf("OpenString: %v", err)
	}
	defer pm.Close()
	if port, err := pm.Port(long, 0, "port"); err != nil || port != 7000 {
		t.Fatalf("Port: %d, %v", port, err)
	}
	_, err = pm.Port(long+"x", 0, "port")
	wantError(t, err, ErrUnknownService, "did you mean '"+long+"'?") // the unknown name is shortened, the suggestion not
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registry.yaml")
	yaml := "_environments:\n  staging: 1000\n" + kafkaYAML
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	pm, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer pm.Close()
	if source, err := pm.Source(); err != nil || source != path {
		t.Fatalf("Source: %q, %v", source, err)
	}
	staging, err := OpenEnv(path, "staging")
	if err != nil {
		t.Fatalf("OpenEnv: %v", err)
	}
	defer staging.Close()
	if port, err := staging.Port("kafka", 1, "broker_port"); err != nil || port != 10192 {
		t.Fatalf("Port in staging: %d, %v", port, err)
	}
	if name, offset, err := staging.Environment(); err != nil || name != "staging" || offset != 1000 {
		t.Fatalf("Environment: %q %d %v", name, offset, err)
	}

	_, err = OpenEnv(path, "prod")
	wantError(t, err, ErrUnknownEnvironment, "prod")
	missing := filepath.Join(dir, "missing.yaml")
	_, err = Open(missing)
	wantError(t, err, ErrNotFound, missing)
	_, err = Open(dir)
	wantError(t, err, ErrIO, dir)
	_, err = Open("a\x00b.yaml")
	wantError(t, err, ErrInvalidArgument, "registry path", `a\x00b.yaml`)
}

func TestBadArguments(t *testing.T) {
	pm := openKafka(t)
	_, err := pm.Port("kaf\x00ka", 0, "broker_port")
	wantError(t, err, ErrInvalidArgument, "service", `kaf\x00ka`, "NUL")
	_, err = pm.Port("kafka", 0, "broker\x00port")
	wantError(t, err, ErrInvalidArgument, "port", "NUL")
	_, err = pm.Port("kafka", 10, "broker_port")
	wantError(t, err, ErrInstanceOutOfRange, "instance 10 of service 'kafka'", "allowed: 0..9")
	_, err = pm.Port("kafka", 0, "port")
	wantError(t, err, ErrUnknownPort, "'port'", "broker_port, controller_port")

	// Instances beyond int32: the message names the caller's value, and an
	// unknown service or port is still reported first.
	const wide = 1 << 40
	_, err = pm.Port("kafka", wide, "broker_port")
	wantError(t, err, ErrInstanceOutOfRange, "instance 1099511627776 of service 'kafka'")
	_, err = pm.Port("kafka", -wide, "broker_port")
	wantError(t, err, ErrInstanceOutOfRange, "instance -1099511627776")
	_, err = pm.Port("kafak", wide, "broker_port")
	wantError(t, err, ErrUnknownService, "kafak")
	_, err = pm.Port("kafka", wide, "port")
	wantError(t, err, ErrUnknownPort, "'port'")
	_, err = pm.Ports("kafka", wide)
	wantError(t, err, ErrInstanceOutOfRange, "instance 1099511627776")
	_, err = pm.ContainerName("kafka", wide)
	wantError(t, err, ErrInstanceOutOfRange, "instance 1099511627776")
	_, err = pm.VolumeName("redis", wide)
	wantError(t, err, ErrUnknownService, "redis")
	_, err = pm.Reserve("kafka", wide, &ReserveOptions{StateDir: t.TempDir(), NoProbe: true})
	wantError(t, err, ErrInstanceOutOfRange, "instance 1099511627776")

	if err := SetLogLevel(1000); err == nil {
		t.Fatal("SetLogLevel(1000) succeeded")
	} else {
		wantError(t, err, ErrInvalidArgument, "1000")
	}
	if err := SetLogLevel(LogWarning); err != nil {
		t.Fatalf("SetLogLevel(LogWarning): %v", err)
	}
}

func TestNilAndClosedRegistry(t *testing.T) {
	var none *Registry
	_, err := none.Port("kafka", 0, "broker_port")
	wantError(t, err, ErrInvalidArgument, "nil")
	_, err = none.Reserve("kafka", 0, nil)
	wantError(t, err, ErrInvalidArgument, "nil")
	if err := none.Close(); err != nil {
		t.Fatalf("closing a nil *Registry: %v", err)
	}

	pm, err := OpenString(kafkaYAML, "kafka.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := pm.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pm.Close(); err != nil {
		t.Fatalf("closing twice: %v", err)
	}
	calls := map[string]func() error{
		"Port":          func() error { _, err := pm.Port("kafka", 0, "broker_port"); return err },
		"Ports":         func() error { _, err := pm.Ports("kafka", 0); return err },
		"ContainerName": func() error { _, err := pm.ContainerName("kafka", 0); return err },
		"VolumeName":    func() error { _, err := pm.VolumeName("kafka", 0); return err },
		"Services":      func() error { _, err := pm.Services(); return err },
		"Source":        func() error { _, err := pm.Source(); return err },
		"Reserve":       func() error { _, err := pm.Reserve("kafka", 0, nil); return err },
		"Release":       func() error { _, err := pm.Release("kafka", 0, nil); return err },
		"Renew":         func() error { return pm.Renew("kafka", 0, 0, nil) },
		"Status":        func() error { _, err := pm.Status("", ""); return err },
		"Check":         func() error { _, err := pm.Check(nil); return err },
	}
	for name, call := range calls {
		err := call()
		if err == nil {
			t.Errorf("%s on a closed registry succeeded", name)
			continue
		}
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "closed") {
			t.Errorf("%s on a closed registry: %v", name, err)
		}
	}
}

// Many goroutines use one registry while it is closed: every call either
// answers or reports the registry closed; none runs on a freed handle. Run
// with -race.
func TestConcurrentUseAndClose(t *testing.T) {
	pm, err := OpenString(kafkaYAML, "kafka.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	started := make(chan struct{}, 8)
	problems := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				port, err := pm.Port("kafka", i%10, "broker_port")
				if err == nil && i%2 == 1 { // a call that always reaches the library
					var name string
					name, err = pm.ContainerName("kafka", 0)
					if err == nil && name != "kafka-development" {
						problems <- fmt.Sprintf("goroutine %d: container name %q", g, name)
						return
					}
				}
				if i == 100 {
					started <- struct{}{}
				}
				if err != nil {
					if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "closed") {
						problems <- fmt.Sprintf("goroutine %d: %v", g, err)
					}
					return
				}
				if port != 9092+100*(i%10) {
					problems <- fmt.Sprintf("goroutine %d: instance %d got port %d", g, i%10, port)
					return
				}
			}
		}(g)
	}
	for g := 0; g < 8; g++ {
		<-started
	}
	pm.Close()
	wg.Wait()
	close(problems)
	for p := range problems {
		t.Error(p)
	}
}

// Each goroutine gets the message of its own failure, although the library
// keeps one per OS thread and goroutines move between threads.
func TestErrorMessagesPerGoroutine(t *testing.T) {
	pm := openKafka(t)
	var wg sync.WaitGroup
	problems := make(chan string, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			service := fmt.Sprintf("service%d", g)
			for i := 0; i < 300; i++ {
				_, err := pm.Port(service, 0, "port")
				want := fmt.Sprintf("unknown service '%s'", service)
				if err == nil || !strings.Contains(err.Error(), want) {
					problems <- fmt.Sprintf("goroutine %d, call %d: %v", g, i, err)
					return
				}
				if _, err := pm.Port("kafka", i%10, "broker_port"); err != nil { // a success between failures
					problems <- fmt.Sprintf("goroutine %d: %v", g, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(problems)
	for p := range problems {
		t.Error(p)
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); v != headerVersion() {
		t.Fatalf("the library is %q, the header %q", v, headerVersion())
	}
	if err := checkABI(); err != nil {
		t.Fatal(err)
	}
}
