package main

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"pcsupport/internal/history/pgtest"
	"pcsupport/internal/i18n"
)

// parallelWholeApps is how many whole-app tests run at once unless -parallel says otherwise. They
// mostly wait (on token lifetimes, retries' back-off, readiness re-checks), so Go's default of
// GOMAXPROCS would leave a 2-core machine idle while they queue behind each other.
const parallelWholeApps = "8"

// TestMain fails the run when any page or message asked the catalogue for a message it lacks:
// some message ids are built at run time, so only running the app finds them all (the browser
// tests in e2e run the app as a process of its own, which this cannot see). pgtest stops the
// PostgreSQL cluster a test started.
func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		if err := flag.Set("test.parallel", parallelWholeApps); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	code := pgtest.Run(m)
	if missing := i18n.MissingSoFar(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "messages missing from the catalogue: %v\n", missing)
		code = 1
	}
	os.Exit(code)
}
