package portmanager_test

import (
	"log"
	"os"
	"sync"
	"testing"
)

var (
	exampleOnce   sync.Once
	exampleFolder string
)

// exampleDir is a temporary folder for the examples' reservation stores (an
// Example has no t.TempDir); TestMain removes it.
func exampleDir() string {
	exampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "portmanager-go-example-")
		if err != nil {
			log.Fatal(err)
		}
		exampleFolder = dir
	})
	return exampleFolder
}
func TestMain(m *testing.M) {
	code := m.Run()
	if exampleFolder != "" {
		os.RemoveAll(exampleFolder)
	}
	os.Exit(code)
}
