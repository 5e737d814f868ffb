// Package testkit holds what the tests of several packages share: small helpers with no other
// home. Only tests import it.
package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// GoCommand is the go command running the tests: go test names its GOROOT to the test binary;
// otherwise the one on the PATH.
func GoCommand(t testing.TB) string {
	t.Helper()
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		if p := filepath.Join(goroot, "bin", "go"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
