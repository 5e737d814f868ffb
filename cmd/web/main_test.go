package main

import (
	"fmt"
	"os"
	"testing"

	"pcsupport/internal/history/pgtest"
	"pcsupport/internal/i18n"
)

// TestMain fails the run when any page or message asked the catalogue for a message it lacks:
// some message ids are built at run time, so only running the app finds them all. pgtest stops
// the PostgreSQL cluster a test started.
func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if missing := i18n.MissingSoFar(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "messages missing from the catalogue: %v\n", missing)
		code = 1
	}
	os.Exit(code)
}
