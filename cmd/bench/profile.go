package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"pcsupport/cmd/bench/internal/load"
)

// profileResult is where the app's profiles were saved and what their tops say.
type profileResult struct {
	dir                        string
	sessions                   int
	seconds                    int
	cpuTop, allocsTop, heapTop string
}

// profileSessions is the page-view phase profiles are taken in (or the nearest session count asked).
const profileSessions = 50

// profilePhase repeats the page-view phase at 50 sessions with an instant upstream, after the
// measured phases so that profiling costs none of their figures, and meanwhile takes a CPU and
// an allocation profile of the app from its debug listener (delta profiles over the window).
func (b *bench) profilePhase(ctx context.Context) (*profileResult, error) {
	p := &profileResult{dir: b.opts.profileDir, sessions: nearestLevel(b.opts.levels, profileSessions),
		seconds: max(1, int(math.Ceil(b.opts.measure.Seconds())))}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, err
	}
	// What the app holds after every measured phase (saves included), after a collection.
	if err := b.saveProfile(ctx, "heap", 0, filepath.Join(p.dir, "heap.pprof")); err != nil {
		return nil, err
	}
	p.heapTop = b.pprofTop(filepath.Join(p.dir, "heap.pprof"), "-sample_index=inuse_space")
	b.logf("profiles: %d sessions, page views, instant upstream, %ds", p.sessions, p.seconds)
	do, _, err := b.appTarget(ctx, scenario{op: opView, conc: p.sessions})
	if err != nil {
		return nil, err
	}
	spec := load.Spec{Workers: p.sessions, Warmup: b.opts.warmup, Measure: time.Duration(p.seconds)*time.Second + 500*time.Millisecond,
		MaxRequests: b.opts.maxRequests, Drain: time.Minute}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { load.Run(ctx, spec, do) })
	time.Sleep(b.opts.warmup)
	for i, name := range []string{"profile", "allocs"} {
		wg.Go(func() { errs[i] = b.saveProfile(ctx, name, p.seconds, filepath.Join(p.dir, pprofFile(name))) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	p.cpuTop = b.pprofTop(filepath.Join(p.dir, "cpu.pprof"))
	p.allocsTop = b.pprofTop(filepath.Join(p.dir, "allocs.pprof"), "-sample_index=alloc_objects")
	return p, nil
}

func pprofFile(name string) string {
	if name == "profile" {
		return "cpu.pprof"
	}
	return name + ".pprof"
}

// saveProfile saves the named profile of the app over the next seconds (0: a snapshot).
func (b *bench) saveProfile(ctx context.Context, name string, seconds int, path string) error {
	query := fmt.Sprintf("?seconds=%d", seconds)
	if seconds == 0 {
		query = "?gc=1" // a snapshot of what is live
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.app.debugURL+name+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s profile: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s profile: %d %s", name, resp.StatusCode, body)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("%s profile: %w", name, err)
	}
	return f.Close()
}

// pprofTop is the top functions of a profile (go tool pprof -top), or why there are none.
func (b *bench) pprofTop(path string, extra ...string) string {
	args := append([]string{"tool", "pprof", "-top", "-nodecount=20"}, extra...)
	cmd := exec.Command(b.env.goBin, append(args, path)...)
	out, err := cmd.Output()
	if err != nil {
		return fmt.Sprintf("go %s %s: %v", strings.Join(args, " "), path, err)
	}
	return strings.TrimSpace(string(out))
}
