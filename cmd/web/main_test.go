package main

import (
	"fmt"
	"os"
	"testing"

	"pcsupport/internal/i18n"
)

// TestMain fails the run when any page or message asked the catalogue for a message it lacks:
// some message ids are built at run time, so only running the app finds them all.
func TestMain(m *testing.M) {
	code := m.Run()
	if missing := i18n.MissingSoFar(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "messages missing from the catalogue: %v\n", missing)
		code = 1
	}
	os.Exit(code)
}
