package settings

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// example is a command's settings, as a command declares them.
type example struct {
	set                                       *Set
	name, secret, only, on, tags, wait, count *Setting
}

func declareExample(naming Naming) example {
	s := New("tool", naming, "tool does things.")
	return example{
		set:    s,
		name:   s.String("name", "TOOL_NAME", "world", "`who` to greet"),
		secret: s.String("secret", "TOOL_SECRET", "", "the secret").WithFile("file holding the secret"),
		only:   s.Bool("only-flag", "", "a switch the environment cannot turn on"),
		on:     s.Bool("on", "TOOL_ON", "a switch"),
		tags:   s.List("tag", "TOOL_TAGS", "tags"),
		wait:   s.String("wait", "TOOL_WAIT", "5s", "how long to wait"),
		count:  s.String("count", "TOOL_COUNT", "", "how many"),
	}
}

func TestFlagsWinOverTheEnvironmentAndDefaultsFillTheRest(t *testing.T) {
	e := declareExample(ByFlag)
	err := e.set.Parse([]string{"--name", "flag", "--tag", "a, b", "--tag=c", "--on=false"},
		env(map[string]string{"TOOL_NAME": "env", "TOOL_TAGS": "x,y", "TOOL_ON": "true", "TOOL_COUNT": "3"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if e.name.Value() != "flag" || !slices.Equal(e.tags.Values(), []string{"a", "b", "c"}) || e.on.Bool() ||
		e.count.Count() != 3 || e.wait.Duration() != 5*time.Second || e.only.Bool() {
		t.Errorf("name %q tags %v on %v count %d wait %v only %v", e.name.Value(), e.tags.Values(), e.on.Bool(), e.count.Count(), e.wait.Duration(), e.only.Bool())
	}
	if err := e.set.Err(); err != nil {
		t.Error(err)
	}
}

func TestEnvironmentListsAndSwitches(t *testing.T) {
	e := declareExample(ByFlag)
	if err := e.set.Parse([]string{"--only-flag"}, env(map[string]string{"TOOL_TAGS": "x y,z", "TOOL_ON": "1"}), io.Discard); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.tags.Values(), []string{"x", "y", "z"}) || !e.on.Bool() || !e.only.Bool() || e.name.Value() != "world" {
		t.Errorf("tags %v on %v only %v name %q", e.tags.Values(), e.on.Bool(), e.only.Bool(), e.name.Value())
	}
}

// A setting without an environment variable is never read from one, whatever its name would be.
func TestSettingWithoutVariableIgnoresTheEnvironment(t *testing.T) {
	e := declareExample(ByFlag)
	asked := map[string]bool{}
	_ = e.set.Parse(nil, func(k string) string { asked[k] = true; return "true" }, io.Discard)
	if e.only.Bool() || asked[""] || asked["ONLY_FLAG"] || asked["TOOL_ONLY_FLAG"] {
		t.Errorf("the environment reached a flag-only setting: asked %v", asked)
	}
}

func TestValueFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(path, []byte("from-file\n"), 0o600)
	e := declareExample(ByEnvironment)
	_ = e.set.Parse(nil, env(map[string]string{"TOOL_SECRET_FILE": path}), io.Discard)
	if e.secret.Value() != "from-file" || e.secret.FileFailed() || !e.secret.Given() {
		t.Errorf("secret %q", e.secret.Value())
	}
}

// Every malformed value, a secret given twice and an unreadable file are listed together, named
// as the command chose (here by variable), without stopping at the first.
func TestEveryProblemInOneMessage(t *testing.T) {
	e := declareExample(ByEnvironment)
	err := e.set.Parse([]string{"--on=maybe", "--secret", "s", "--wait", "soon", "extra"},
		env(map[string]string{"TOOL_SECRET_FILE": "/nonexistent", "TOOL_COUNT": "-2"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e.on.Bool()
	e.wait.Duration()
	e.count.Count()
	e.secret.Value()
	e.secret.Value() // read twice, reported once
	e.set.Problem("a problem of the command's own")
	got := e.set.Err()
	if got == nil {
		t.Fatal("no error")
	}
	want := []string{`TOOL_ON "maybe" must be true or false`, `TOOL_WAIT "soon" must be a positive duration`, `TOOL_COUNT "-2" must be a whole number`,
		"TOOL_SECRET and TOOL_SECRET_FILE are both set", "unexpected arguments: extra", "a problem of the command's own"}
	for _, w := range want {
		if strings.Count(got.Error(), w) != 1 {
			t.Errorf("want %q once in:\n%v", w, got)
		}
	}
	if n := strings.Count(got.Error(), "\n  - "); n != len(want) {
		t.Errorf("%d problems listed, want %d:\n%v", n, len(want), got)
	}
}

func TestUnreadableFile(t *testing.T) {
	e := declareExample(ByFlag)
	_ = e.set.Parse([]string{"--secret-file", "/nonexistent/secret"}, env(nil), io.Discard)
	if e.secret.Value() != "" || !e.secret.FileFailed() {
		t.Error("an unreadable file gave a value")
	}
	if err := e.set.Err(); err == nil || !strings.Contains(err.Error(), "--secret-file: open /nonexistent/secret") {
		t.Errorf("err = %v", err)
	}
}

// --help lists every flag with its variable (or says it has none) and its default.
func TestHelpListsEverySetting(t *testing.T) {
	e := declareExample(ByFlag)
	var out bytes.Buffer
	if err := e.set.Parse([]string{"--help"}, env(nil), &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	help := out.String()
	for _, want := range []string{"Usage: tool [flags]", "tool does things.", "--name who\n", "who to greet (env TOOL_NAME, default world)",
		"--secret-file value", "env TOOL_SECRET_FILE", "--only-flag\n", "(no environment variable)", "env TOOL_TAGS, comma separated, or repeat the flag",
		"default 5s"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if len(e.set.Documented()) != 8 {
		t.Errorf("documented %d settings, want 8", len(e.set.Documented()))
	}
}
