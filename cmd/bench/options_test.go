package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// What a full and a short run measure when no flag says otherwise.
func TestDefaultsOfAFullAndAShortRun(t *testing.T) {
	full, err := parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(full.levels, []int{1, 50, 200}) || full.measure != 5*time.Second || full.saveMeasure != 8*time.Second ||
		full.latency != 50*time.Millisecond || full.tokenLifetime != time.Hour || full.runs != 1 || !full.render || !full.refresh ||
		full.strict || full.starts != 10 || full.refreshN != 50 || len(full.operations()) != 3 {
		t.Errorf("full run: %+v", full)
	}
	short, err := parseOptions([]string{"--short", "--render=false", "--measure", "2s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(short.levels, []int{1, 4, 16}) || short.measure != 2*time.Second || short.saveMeasure != 600*time.Millisecond ||
		short.render || !short.refresh || short.refreshFor != 14*time.Second {
		t.Errorf("short run: %+v", short)
	}
}

// A command line with several mistakes is answered with all of them at once.
func TestEveryProblemInOneMessage(t *testing.T) {
	_, err := parseOptions([]string{"--runs", "30", "--sessions", "0,4", "--ops", "view,fly", "--measure", "soon",
		"--app-env", "GOGC", "--refresh-for", "5s"}, io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`--runs must be between 1 and 20`, `--sessions: "0"`, `unknown operation "fly"`,
		`--measure "soon"`, `--app-env "GOGC"`, `--refresh-for must be longer`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the message lacks %q:\n%v", want, err)
		}
	}
}

// GODEBUG's value is itself a comma-separated list: it must reach the app whole.
func TestAppEnvironmentKeepsGODEBUGWhole(t *testing.T) {
	o, err := parseOptions([]string{"--app-env", "GODEBUG=gctrace=1,madvdontneed=1", "--app-env", "GOMEMLIMIT=40MiB,GOGC=50"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"GODEBUG=gctrace=1,madvdontneed=1", "GOMEMLIMIT=40MiB", "GOGC=50"}; !slices.Equal(o.appEnv, want) {
		t.Errorf("app environment %q, want %q", o.appEnv, want)
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	var help strings.Builder
	if _, err := parseOptions([]string{"--help"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, f := range []string{"short", "strict", "runs", "sessions", "ops", "measure", "save-measure", "warmup", "latency",
		"token-lifetime", "starts", "render", "out", "idle", "refresh", "refresh-token-lifetime", "refresh-for",
		"refresh-sessions", "app-env", "app-log", "profile-dir", "history-rounds", "history-measure"} {
		if !strings.Contains(help.String(), "--"+f+" ") && !strings.Contains(help.String(), "--"+f+"\n") {
			t.Errorf("--help does not list --%s", f)
		}
	}
}
