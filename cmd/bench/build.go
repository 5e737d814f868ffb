package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"pcsupport/cmd/bench/internal/proc"
)

// The app is built as scripts/build-binary and the Dockerfile build it (a test keeps this equal
// to the script's command); the profiling build adds only the loopback pprof listener.
const (
	productionTags = "nodev"
	profilingTags  = "nodev,debuglisten"
	buildLDFlags   = "-s -w"
)

// buildLine is the build command as a shell runs it, for the report.
func buildLine(tags string) string {
	return fmt.Sprintf(`CGO_ENABLED=0 go build -trimpath -tags %s -ldflags="%s"`, tags, buildLDFlags)
}

// environment is what every run shares: the tools, the built app and a scratch directory.
type environment struct {
	goBin, root, tmp string
	appBin           string // the app the runs start: the production build, or the profiling one
	profiling        bool   // appBin has the debug listener (--profile-dir)
	binarySize       int64  // of the production build
	machine          string
}

func (e *environment) cleanup() { os.RemoveAll(e.tmp) }

// prepare finds go and the module, and builds the app.
func prepare(o options, log io.Writer) (*environment, error) {
	e := &environment{machine: proc.DescribeMachine(), profiling: o.profileDir != ""}
	var err error
	if e.goBin, err = exec.LookPath("go"); err != nil {
		return nil, fmt.Errorf("the bench builds the app with go, which is not on the PATH: %w", err)
	}
	if e.root, err = moduleRoot(e.goBin); err != nil {
		return nil, err
	}
	if e.tmp, err = os.MkdirTemp("", "pcsupport-bench-"); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "bench: building cmd/web as the Dockerfile does: %s\n", buildLine(productionTags))
	e.appBin = filepath.Join(e.tmp, "web")
	if err := e.build(productionTags, e.appBin); err != nil {
		e.cleanup()
		return nil, err
	}
	if fi, err := os.Stat(e.appBin); err == nil {
		e.binarySize = fi.Size()
	}
	if e.profiling {
		fmt.Fprintf(log, "bench: building the app with its profiling listener: %s\n", buildLine(profilingTags))
		e.appBin = filepath.Join(e.tmp, "web-profiling")
		if err := e.build(profilingTags, e.appBin); err != nil {
			e.cleanup()
			return nil, err
		}
	}
	return e, nil
}

func (e *environment) build(tags, out string) error {
	cmd := exec.Command(e.goBin, "build", "-trimpath", "-tags", tags, "-ldflags="+buildLDFlags, "-o", out, "./cmd/web")
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", buildLine(tags), err, b)
	}
	return nil
}

// moduleRoot is where go.mod is, so the bench runs from any directory inside the module.
func moduleRoot(goBin string) (string, error) {
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the bench inside the pcsupport module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}
