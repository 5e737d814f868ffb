package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"pcsupport/cmd/bench/internal/floor"
	"pcsupport/cmd/bench/internal/gobench"
	"pcsupport/cmd/bench/internal/pageweight"
	"pcsupport/cmd/bench/internal/proc"
	"pcsupport/internal/devidp"
	"pcsupport/internal/devstack"
	"pcsupport/internal/pcemu"
)

// bench is one full run: it starts everything, measures, and fills a runResult.
type bench struct {
	opts    options
	env     *environment
	log     io.Writer
	first   bool // the first of the runs (profiles are taken in it)
	selfPID int

	stack  *devstack.Stack
	app    *appProcess
	appCfg appConfig // how the app was started: started again so, it keeps the sessions
	proxy  *floor.Proxy

	shared    []*session      // admins of the one dev tenant
	own       []*session      // admins with a partner tenant each
	transport *http.Transport // of every session
}

// runResult is everything one run measured.
type runResult struct {
	started               time.Time
	loadBefore, loadAfter string
	starts                []time.Duration
	weight                pageweight.Weight
	scenarios             []scenario
	loadDuration          time.Duration
	cpu                   cpuSample
	mem, memIdle          proc.Memory // right after the load, and after opts.idle without requests
	goMem                 goMemory    // the app's runtime's account of its memory, right after the load
	signIns               int
	refresh               *refreshResult
	render                []gobench.Line
	renderCmd             string
	profile               *profileResult
	flood                 *floodResult
	history               *historyResult
	downloads             *downloadsResult
	broken                []string
}

func (b *bench) logf(format string, a ...any) { fmt.Fprintf(b.log, "bench: "+format+"\n", a...) }

func (b *bench) run(ctx context.Context) (*runResult, error) {
	r := &runResult{started: time.Now(), loadBefore: proc.LoadAverage()}
	b.selfPID = os.Getpid()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if b.stack, err = startStandIns(callbackURL(port), b.opts.tokenLifetime, b.personas()); err != nil {
		return nil, err
	}
	defer b.stack.Close()
	if r.starts, err = b.timeStarts(); err != nil {
		return nil, err
	}
	if err := b.startTargets(ctx, port); err != nil {
		return nil, err
	}
	defer b.stopTargets()
	if err := b.signInAll(ctx); err != nil {
		return nil, fmt.Errorf("%w\napp log:\n%s", err, b.app.Logs)
	}
	r.signIns = b.stack.Provider.Stats().SignIns
	if r.weight, err = b.pageWeight(ctx); err != nil {
		return nil, fmt.Errorf("page weight: %w", err)
	}
	if err := b.loadPhases(ctx, r); err != nil {
		return nil, err
	}
	if err := b.readMemory(ctx, r); err != nil {
		return nil, err
	}
	if b.env.profiling && b.first {
		if r.profile, err = b.profilePhase(ctx); err != nil {
			r.broken = append(r.broken, "profiles: "+err.Error())
		}
	}
	b.stopTargets()
	return r, b.afterLoad(ctx, r)
}

func callbackURL(port int) string { return fmt.Sprintf("http://127.0.0.1:%d/auth/callback", port) }

func (b *bench) personas() []devidp.Persona {
	ps := devidp.Personas()
	if b.opts.needsOwnTenants() {
		ps = ownTenantPersonas(slices.Max(b.opts.levels))
	}
	if b.opts.ops[opSaveExports] {
		ps = append(ps, auditorPersonas()...)
	}
	return ps
}

// timeStarts times starts of the app, each from the process's start to healthz's first 200.
func (b *bench) timeStarts() ([]time.Duration, error) {
	b.logf("timing %d starts", b.opts.starts)
	var starts []time.Duration
	for i := range b.opts.starts {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		app, d, err := startApp(b.env.appBin, b.stack, appConfig{port: port, dataDir: b.scratch(fmt.Sprintf("start%d", i))}, b.opts.appEnv)
		if err != nil {
			return nil, err
		}
		app.stop()
		starts = append(starts, d)
	}
	return starts, nil
}

// scratch is a new directory under the run's temporary one.
func (b *bench) scratch(name string) string {
	dir, err := os.MkdirTemp(b.env.tmp, name+"-")
	if err != nil {
		return filepath.Join(b.env.tmp, name)
	}
	return dir
}

// startTargets starts the app to measure on port, and the bare proxy with a token of its own.
func (b *bench) startTargets(ctx context.Context, port int) error {
	c := appConfig{port: port, dataDir: b.scratch("data"), sessionKeys: newSessionKeys(), logFile: b.opts.appLog}
	if b.env.profiling {
		var err error
		if c.debugPort, err = freePort(); err != nil {
			return err
		}
	}
	var err error
	if b.app, _, err = startApp(b.env.appBin, b.stack, c, b.opts.appEnv); err != nil {
		return err
	}
	b.appCfg = c
	cfg, err := floor.SignIn(ctx, proxyRegistration(b.stack), "admin", b.stack.EmulatorURL)
	if err != nil {
		return err
	}
	b.proxy, err = floor.Start(cfg)
	return err
}

func (b *bench) stopTargets() {
	if b.app != nil {
		b.app.stop()
	}
	if b.proxy != nil {
		b.proxy.Stop(5 * time.Second)
	}
}

// signInAll signs in the sessions of the load through the dev provider, a few at a time: as
// many as the most sessions asked, on the dev tenant, and as many with a tenant each.
func (b *bench) signInAll(ctx context.Context) error {
	n := slices.Max(b.opts.levels)
	tr := newTransport(n * 2)
	b.transport = tr
	b.shared = make([]*session, n)
	if b.opts.needsOwnTenants() {
		b.own = make([]*session, n)
	}
	b.logf("signing in %d sessions through the dev provider", len(b.shared)+len(b.own))
	type job struct {
		dst     **session
		id      int
		persona string
	}
	var jobs []job
	for i := range n {
		jobs = append(jobs, job{&b.shared[i], i, "admin"})
		if b.own != nil {
			jobs = append(jobs, job{&b.own[i], n + i, ownPersona(i)})
		}
	}
	return forEach(jobs, 8, func(j job) (err error) {
		*j.dst, err = signIn(ctx, j.id, b.app.url, j.persona, tr)
		return err
	})
}

func (b *bench) pageWeight(ctx context.Context) (pageweight.Weight, error) {
	b.logf("page weight")
	s, err := signIn(ctx, -1, b.app.url, "admin", newTransport(1))
	if err != nil {
		return pageweight.Weight{}, err
	}
	return pageweight.Measure(ctx, s.client.Jar, b.app.url)
}

// loadPhases measures every operation at every session count, with an instant upstream and
// then with the injected latency (a fault with status 0 only delays, every GET and PUT).
func (b *bench) loadPhases(ctx context.Context, r *runResult) error {
	cpuStart, start := b.cpuTimes(), time.Now()
	for _, op := range b.opts.operations() {
		for _, lat := range []time.Duration{0, b.opts.latency} {
			if lat > 0 {
				b.stack.Emulator.InjectFaults(pcemu.Fault{Count: 1 << 30, Delay: lat})
			}
			for _, n := range b.opts.levels {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.scenarios = append(r.scenarios, b.scenario(ctx, op, lat, n))
			}
			b.stack.Emulator.ClearFaults()
		}
	}
	r.loadDuration, r.cpu, r.loadAfter = time.Since(start), b.cpuTimes().since(cpuStart), proc.LoadAverage()
	return nil
}

func (b *bench) scenario(ctx context.Context, op string, lat time.Duration, n int) scenario {
	sc := scenario{op: op, latency: lat, conc: n}
	sc.proxy = b.measure(ctx, sc, false)
	sc.app = b.measure(ctx, sc, true)
	b.logf("%s proxy: %s, CPU %s per request", sc, sc.proxy.Result, us0(sc.proxy.cpuPerRequest()))
	b.logf("%s app:   %s, CPU %s per request, %.0f allocations", sc, sc.app.Result, us0(sc.app.cpuPerRequest()), sc.app.allocsPerRequest())
	for _, m := range append(sc.proxy.ErrorMsgs, sc.app.ErrorMsgs...) {
		b.logf("  error: %s", m)
	}
	return sc
}

// readMemory reads the app's memory right after the load and again after it idled: the Go
// runtime returns freed memory to the system over time.
func (b *bench) readMemory(ctx context.Context, r *runResult) error {
	var err error
	if r.mem, err = proc.ReadMemory(b.app.PID()); err != nil {
		r.broken = append(r.broken, "read the app's memory: "+err.Error())
	}
	if r.goMem, err = b.app.goMemory(); err != nil {
		r.broken = append(r.broken, "read the app's runtime memory: "+err.Error())
	}
	select {
	case <-time.After(b.opts.idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	r.memIdle, _ = proc.ReadMemory(b.app.PID())
	return nil
}

// afterLoad runs the anonymous flood, measures the cost of the change history and saves with
// downloads of it held open, checks token refreshes and runs the render benchmark.
func (b *bench) afterLoad(ctx context.Context, r *runResult) error {
	if b.opts.ops[opFlood] {
		var err error
		r.flood, err = b.floodPhase(ctx)
		if err := r.unmeasured(ctx, "anonymous flood", err); err != nil {
			return err
		}
	}
	if b.opts.ops[opSaveHistory] {
		var err error
		r.history, err = b.historyPhase(ctx)
		if err := r.unmeasured(ctx, "cost of the change history", err); err != nil {
			return err
		}
	}
	if b.opts.ops[opSaveExports] {
		var err error
		r.downloads, err = b.downloadsPhase(ctx)
		if err := r.unmeasured(ctx, "saves with downloads held open", err); err != nil {
			return err
		}
	}
	if b.opts.refresh {
		rr, err := b.refreshPhase(ctx)
		if err != nil {
			return err
		}
		r.refresh = &rr
	}
	if b.opts.render {
		b.logf("form render benchmark (go test -bench)")
		var err error
		if r.render, r.renderCmd, err = gobench.Run(b.env.goBin, b.env.root, renderArgs(b.opts.short)); err != nil {
			r.broken = append(r.broken, "render benchmark: "+err.Error())
		}
	}
	return nil
}

// unmeasured notes that a phase failed, what the report lists as not measured; it returns the
// run's end when the bench was stopped meanwhile.
func (r *runResult) unmeasured(ctx context.Context, phase string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	r.broken = append(r.broken, phase+": "+err.Error())
	return nil
}

// renderArgs run the views' render benchmarks: five counts and the median of each (short: one).
func renderArgs(short bool) []string {
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkRender", "-benchmem", "-count", "5"}
	if short {
		args = []string{"test", "-run", "^$", "-bench", "^BenchmarkRender", "-benchmem", "-count", "1", "-benchtime", "2000x"}
	}
	return append(args, "./internal/views")
}

// forEach calls f for every item, limit at a time, and returns the first error.
func forEach[T any](items []T, limit int, f func(T) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, limit)
	)
	for _, it := range items {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := f(it); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
