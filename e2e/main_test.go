package e2e

import (
	"fmt"
	"os"
	"testing"
)

// TestMain gives the web binary a directory for the run and removes it afterwards. The binary is
// built there on first use (webBinary), so a run without Chromium builds nothing.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pcsupport-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
