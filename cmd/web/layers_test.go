package main

import (
	"os/exec"
	"strings"
	"testing"

	"pcsupport/internal/testkit"
)

// Echo stays at the edges (docs/design.md, "Moving to Echo v5"): the packages that decide, record
// and show a save do not link it, so that a move to Echo v5 touches only the handlers, the
// middleware, the probes and this command.
func TestEchoStaysAtTheEdges(t *testing.T) {
	t.Parallel()
	inner := []string{"auth", "sessionstore", "pcclient", "history", "notify", "views", "support", "i18n", "config"}
	args := []string{"list", "-deps", "-f", "{{.ImportPath}}"}
	for _, p := range inner {
		args = append(args, "pcsupport/internal/"+p)
	}
	out, err := exec.Command(testkit.GoCommand(t), args...).Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/labstack/echo") {
			t.Errorf("%s is linked by one of %v", dep, inner)
		}
	}
}
