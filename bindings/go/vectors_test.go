package portmanager

// The shared conformance vectors (Tests/conformance/vectors.txt) through the
// Go binding. The C/libffi suite, the Swift tests and the Python binding run
// the same file; all must get the answers it gives. The format is described
// at the top of the file.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var vectorsPath = filepath.Join("..", "..", "Tests", "conformance", "vectors.txt")

type vector struct {
	location  string
	words     []string
	expected  string
	yaml      string
	malformed string // why the line cannot be run; "" when it can
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("reading the vectors: %v", err)
	}
	registries := map[string]*strings.Builder{}
	current := ""
	var vectors []vector
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		location := "vectors.txt:" + strconv.Itoa(i+1)
		if strings.HasPrefix(line, "|") {
			if current == "" {
				vectors = append(vectors, vector{location: location, malformed: "a YAML line outside a registry"})
				continue
			}
			text := strings.TrimPrefix(line, "|")
			text = strings.TrimPrefix(text, " ")
			registries[current].WriteString(text + "\n")
			continue
		}
		current = ""
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, ok := cutPrefix(line, "registry "); ok {
			current = name
			registries[name] = &strings.Builder{}
			continue
		}
		query, expected, ok := strings.Cut(line, " => ")
		if !ok {
			vectors = append(vectors, vector{location: location, malformed: "expected 'COMMAND ARG... => EXPECTED'"})
			continue
		}
		v := vector{location: location, words: strings.Fields(query), expected: expected}
		if len(v.words) < 2 || registries[v.words[1]] == nil {
			v.malformed = "unknown registry"
		} else {
			v.yaml = registries[v.words[1]].String()
		}
		vectors = append(vectors, v)
	}
	return vectors
}

func cutPrefix(s, prefix string) (string, bool) {
	if strings.HasPrefix(s, prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// runVector gives the answer, or the error the binding returned.
func runVector(t *testing.T, v vector) (string, error) {
	w := v.words
	pm, err := OpenString(v.yaml, w[1])
	if err != nil {
		return "", err
	}
	defer pm.Close()
	instance := func(text string) int {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			t.Fatalf("%s: instance %q is not an integer", v.location, text)
		}
		return int(n)
	}
	switch command, arity := w[0], len(w); {
	case command == "open" && arity == 2:
		return "ok", nil
	case command == "services" && arity == 2:
		names, err := pm.Services()
		return strings.Join(names, " "), err
	case command == "get_port" && arity == 5:
		port, err := pm.Port(w[2], instance(w[3]), w[4])
		return strconv.Itoa(port), err
	case command == "get_ports" && arity == 4:
		ports, err := pm.Ports(w[2], instance(w[3]))
		var answer []string
		for _, p := range ports {
			answer = append(answer, strconv.Itoa(p.Port))
		}
		return strings.Join(answer, " "), err
	case command == "container_name" && arity == 4:
		return pm.ContainerName(w[2], instance(w[3]))
	case command == "volume_name" && arity == 4:
		return pm.VolumeName(w[2], instance(w[3]))
	case command == "allocation_line" && arity == 5:
		return pm.AllocationLine(w[2], int64(instance(w[3])), w[4])
	case command == "reserve" && arity >= 5 && (arity-3)%2 == 0:
		state := filepath.Join(t.TempDir(), "state") // a fresh, empty store per query
		var answers []string
		for i := 3; i+1 < arity; i += 2 {
			n := AnyInstance
			if w[i] != "any" {
				n = instance(w[i])
			}
			got, err := pm.Reserve(w[2], n, &ReserveOptions{StateDir: state, Owner: w[i+1], NoProbe: true})
			if err != nil {
				return "", err
			}
			answers = append(answers, strconv.Itoa(got))
		}
		return strings.Join(answers, " "), nil
	}
	t.Fatalf("%s: unknown query %q with %d arguments", v.location, w[0], len(w)-1)
	return "", nil
}

// statusByName maps the header's names to the constants, through the library's pm_status_str.
func statusByName() map[string]Status {
	names := map[string]Status{}
	for _, s := range knownStatuses {
		names[s.String()] = s
	}
	return names
}

// checkVector compares an outcome with the vector's expectation; "" when it matches.
func checkVector(v vector, answer string, err error, byName map[string]Status) string {
	rest, isError := cutPrefix(v.expected, "error ")
	if !isError {
		if err != nil {
			return fmt.Sprintf("%s: expected %q, got %v", v.location, v.expected, err)
		}
		if answer != v.expected {
			return fmt.Sprintf("%s: expected %q, got %q", v.location, v.expected, answer)
		}
		return ""
	}
	name, text, _ := strings.Cut(rest, ":")
	text = strings.TrimLeft(text, " ")
	want, known := byName[name]
	switch {
	case text == "":
		return fmt.Sprintf("%s: the vector gives no message text", v.location)
	case !known:
		return fmt.Sprintf("%s: %q is not a pm_status name", v.location, name)
	case err == nil:
		return fmt.Sprintf("%s: expected %s, got the answer %q", v.location, name, answer)
	case !errors.Is(err, want):
		return fmt.Sprintf("%s: expected %s, got %v", v.location, name, err)
	case !strings.Contains(err.Error(), text):
		return fmt.Sprintf("%s: %q does not contain %q", v.location, err.Error(), text)
	}
	return ""
}

func TestVectors(t *testing.T) {
	vectors := loadVectors(t)
	if len(vectors) < 50 {
		t.Fatalf("only %d vectors in %s", len(vectors), vectorsPath)
	}
	byName := statusByName()
	passed, errorVectors := 0, 0
	for _, v := range vectors {
		if v.malformed != "" {
			t.Errorf("%s: %s", v.location, v.malformed)
			continue
		}
		if strings.HasPrefix(v.expected, "error ") {
			errorVectors++
		}
		answer, err := runVector(t, v)
		if problem := checkVector(v, answer, err, byName); problem != "" {
			t.Error(problem)
		} else {
			passed++
		}
	}
	if errorVectors == 0 {
		t.Errorf("no vector expects an error")
	}
	t.Logf("conformance vectors: %d of %d passed (%s)", passed, len(vectors), vectorsPath)
}

// The comparison really fails: a wrong answer, a wrong status, a wrong text
// and a missing error are each reported.
func TestCheckVectorRefusesWrongOutcomes(t *testing.T) {
	byName := statusByName()
	unknown := &Error{Status: ErrUnknownService, Message: "unknown service 'kafak'; did you mean 'kafka'?"}
	cases := []struct {
		expected string
		answer   string
		err      error
	}{
		{"9092", "9192", nil},
		{"9092", "", unknown},
		{"error PM_ERR_UNKNOWN_PORT: kafak", "", unknown},
		{"error PM_ERR_UNKNOWN_SERVICE: redis", "", unknown},
		{"error PM_ERR_UNKNOWN_SERVICE: kafak", "9092", nil},
		{"error PM_ERR_NO_SUCH_STATUS: kafak", "", unknown},
		{"error PM_ERR_UNKNOWN_SERVICE:", "", unknown},
	}
	for _, c := range cases {
		if checkVector(vector{location: "case", expected: c.expected}, c.answer, c.err, byName) == "" {
			t.Errorf("expected %q accepted answer %q, error %v", c.expected, c.answer, c.err)
		}
	}
	if problem := checkVector(vector{location: "case", expected: "error PM_ERR_UNKNOWN_SERVICE: did you mean 'kafka'?"},
		"", unknown, byName); problem != "" {
		t.Errorf("a matching error was refused: %s", problem)
	}
}
