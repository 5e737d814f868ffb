package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// bench is one run: it starts everything, measures, and fills a report.
type bench struct {
	opts options
	log  io.Writer

	stand *standIns
	app   *appProcess
	proxy *proxyProcess

	shared []*session // admins of the one dev tenant
	own    []*session // admins with a partner tenant each
}

// Operations measured side by side.
const (
	opView    = "page view"
	opSave    = "save, shared tenant"
	opSaveOwn = "save, tenant per session"
)

// scenario is one row of the results: an operation at a concurrency and an upstream latency,
// through the bare proxy and through the app.
type scenario struct {
	op      string
	latency time.Duration
	conc    int
	proxy   runStats
	app     runStats
}

// runStats is one side of a scenario with what the stand-ins counted meanwhile.
type runStats struct {
	loadResult
	upstream      pcemu.Stats
	upstreamConns int64 // connections this side opened to the emulator
	cpuTicks      int64 // CPU time of this side's process (the app or the bare proxy)
	refreshes     int   // token refreshes made by this side
	rssAfter      int64 // the app's resident memory right after the run
}

// cpuPerRequest is the CPU time the process under test spent per request.
func (r runStats) cpuPerRequest() time.Duration {
	if r.requests == 0 {
		return 0
	}
	return time.Duration(r.cpuTicks) * (time.Second / ticksPerSecond) / time.Duration(r.requests)
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", a...)
}

func (b *bench) run(ctx context.Context) (*report, error) {
	o := b.opts
	rep := &report{opts: o, started: time.Now(), machine: describeMachine(), loadBefore: loadAverage()}

	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	root, err := moduleRoot(goBin)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "pcsupport-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	b.logf("building cmd/web as the Dockerfile does")
	bin := filepath.Join(tmp, "web")
	if err := buildApp(goBin, root, bin); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(bin); err == nil {
		rep.binarySize = fi.Size()
	}

	maxLevel := 0
	for _, n := range o.levels {
		maxLevel = max(maxLevel, n)
	}
	personas := devidp.Personas()
	if slices.Contains(b.operations(), opSaveOwn) {
		personas = ownTenantPersonas(maxLevel)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b.stand, err = startStandIns(fmt.Sprintf("http://127.0.0.1:%d/auth/callback", port), o.tokenLifetime, personas)
	if err != nil {
		return nil, err
	}
	defer b.stand.close()

	b.logf("timing %d starts", o.starts)
	for i := range o.starts {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		proc, d, err := startAppProcess(bin, appArgs(b.stand, p, filepath.Join(tmp, fmt.Sprintf("start%d", i))), p, o.appEnv, "")
		if err != nil {
			return nil, err
		}
		proc.stop()
		rep.starts = append(rep.starts, d)
	}
	b.app, _, err = startAppProcess(bin, appArgs(b.stand, port, filepath.Join(tmp, "data")), port, o.appEnv, o.appLog)
	if err != nil {
		return nil, err
	}
	defer b.app.stop()

	tok, tokenURL, err := proxyOAuthToken(ctx, b.stand)
	if err != nil {
		return nil, err
	}
	b.proxy, err = startProxyProcess(proxyToken{Upstream: b.stand.emuURL, TokenURL: tokenURL, ClientID: proxyClientID,
		ClientSecret: b.stand.proxySecret, Token: tok})
	if err != nil {
		return nil, err
	}
	defer b.proxy.stop()

	if err := b.signInAll(ctx, maxLevel); err != nil {
		return nil, fmt.Errorf("%w\napp log:\n%s", err, b.app.logs)
	}
	rep.signIns = b.stand.idp.Stats().SignIns

	b.logf("page weight")
	ws, err := signIn(ctx, -1, b.app.url, "admin", newTransport(1))
	if err != nil {
		return nil, err
	}
	if rep.weight, err = measurePageWeight(ctx, ws); err != nil {
		return nil, fmt.Errorf("page weight: %w", err)
	}

	cpuStart := b.cpuTimes()
	loadStart := time.Now()
	for _, op := range b.operations() {
		for _, lat := range []time.Duration{0, o.latency} {
			if lat > 0 {
				b.stand.emu.InjectFaults(pcemu.Fault{Count: 1 << 30, Delay: lat}) // Status 0: only a delay
			}
			for _, n := range o.levels {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				sc := scenario{op: op, latency: lat, conc: n}
				sc.proxy = b.measure(ctx, sc, false)
				sc.app = b.measure(ctx, sc, true)
				rep.scenarios = append(rep.scenarios, sc)
				b.logf("%-26s %3d sessions, upstream +%-5s proxy: %s", op, n, lat, sc.proxy)
				b.logf("%-26s %3d sessions, upstream +%-5s app:   %s", op, n, lat, sc.app)
				for _, m := range append(sc.proxy.errorMsgs, sc.app.errorMsgs...) {
					b.logf("  error: %s", m)
				}
			}
			b.stand.emu.ClearFaults()
		}
	}
	rep.loadDuration = time.Since(loadStart)
	rep.cpu = b.cpuTimes().since(cpuStart)
	rep.loadAfter = loadAverage()

	rep.mem, err = memory(b.app.pid())
	if err != nil {
		rep.broken = append(rep.broken, "read the app's memory: "+err.Error())
	}
	// The Go runtime returns freed memory to the system over time: what an idle app keeps.
	select {
	case <-time.After(o.idle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rep.memIdle, _ = memory(b.app.pid())
	b.app.stop()
	b.proxy.stop()

	if o.refresh {
		rr, err := b.refreshPhase(ctx, bin, tmp)
		if err != nil {
			return nil, err
		}
		rep.refresh = &rr
		if rr.errors > 0 {
			rep.broken = append(rep.broken, fmt.Sprintf("token refresh check: %d errors (first: %s)", rr.errors, rr.errorMsgs[0]))
		}
	}

	if o.render {
		b.logf("form render benchmark (go test -bench)")
		rep.render, rep.renderCmd, err = renderBenchmarks(goBin, root, o.short)
		if err != nil {
			rep.broken = append(rep.broken, "render benchmark: "+err.Error())
		}
	}
	for _, sc := range rep.scenarios {
		if sc.proxy.errors > 0 || sc.app.errors > 0 {
			rep.broken = append(rep.broken, fmt.Sprintf("%s, %d sessions, +%s: %d errors through the proxy, %d through the app (first: %v)",
				sc.op, sc.conc, sc.latency, sc.proxy.errors, sc.app.errors, append(sc.proxy.errorMsgs, sc.app.errorMsgs...)[0]))
		}
	}
	return rep, nil
}

// operations are those asked for, in the order of the report.
func (b *bench) operations() []string {
	var ops []string
	for _, op := range []struct{ flag, name string }{{"view", opView}, {"save", opSave}, {"save-own", opSaveOwn}} {
		if b.opts.ops[op.flag] {
			ops = append(ops, op.name)
		}
	}
	return ops
}

// signInAll signs in every session through the dev provider, a few at a time.
func (b *bench) signInAll(ctx context.Context, n int) error {
	tr := newTransport(n * 2)
	b.shared = make([]*session, n)
	if slices.Contains(b.operations(), opSaveOwn) {
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
			jobs = append(jobs, job{&b.own[i], n + i, fmt.Sprintf("own%03d", i)})
		}
	}
	return forEach(jobs, 8, func(j job) (err error) {
		*j.dst, err = signIn(ctx, j.id, b.app.url, j.persona, tr)
		return err
	})
}

// measure runs one side of a scenario and reads the counters around it.
func (b *bench) measure(ctx context.Context, sc scenario, app bool) runStats {
	o := b.opts
	spec := loadSpec{conc: sc.conc, warmup: o.warmup, measure: o.measure, maxRequests: o.maxRequests, drain: 60 * time.Second}
	if sc.op != opView {
		spec.measure = o.saveMeasure
	}
	var do func(ctx context.Context, w int) (saveOutcome, error)
	if app {
		sessions := b.shared
		if sc.op == opSaveOwn {
			sessions = b.own
		}
		do = func(ctx context.Context, w int) (saveOutcome, error) {
			s := sessions[w]
			defer func() { s.lastUsed = time.Now() }()
			if sc.op == opView {
				return outcomeSaved, s.viewApp(ctx)
			}
			return s.saveApp(ctx)
		}
	} else {
		tr := newTransport(sc.conc)
		defer tr.CloseIdleConnections()
		clients := make([]*bareClient, sc.conc)
		for i := range clients {
			clients[i] = &bareClient{client: newHTTPClient(tr), url: b.proxy.url + "/v1/profiles/support", nextTel: 50000 + i*100000}
		}
		do = func(ctx context.Context, w int) (saveOutcome, error) {
			if sc.op == opView {
				_, err := clients[w].get(ctx)
				return outcomeSaved, err
			}
			return outcomeSaved, clients[w].save(ctx)
		}
	}

	if app && sc.op != opView {
		// Each person opens the page before saving: the forms then hold what Partner Center has
		// now (the proxy's run changed it), so a save conflicts only with another session's.
		if err := b.reloadAll(ctx, sc); err != nil {
			return runStats{loadResult: loadResult{errors: 1, errorMsgs: []string{err.Error()}}}
		}
	}
	pid := b.proxy.cmd.Process.Pid
	if app {
		pid = b.app.pid()
	}
	before := b.counters(pid)
	res := runLoad(ctx, spec, do)
	after := b.counters(pid)
	rs := runStats{loadResult: res, upstreamConns: after.conns - before.conns, cpuTicks: after.cpuTicks - before.cpuTicks}
	if app {
		m, _ := memory(pid)
		rs.rssAfter = m.rss
	}
	rs.upstream = pcemu.Stats{Gets: after.upstream.Gets - before.upstream.Gets, Puts: after.upstream.Puts - before.upstream.Puts,
		Refused: after.upstream.Refused - before.upstream.Refused}
	proxyRefreshes := after.proxyRefr - before.proxyRefr
	if app {
		rs.refreshes = after.idp.Refreshes - before.idp.Refreshes - proxyRefreshes
	} else {
		rs.refreshes = proxyRefreshes
	}
	return rs
}

func (b *bench) reloadAll(ctx context.Context, sc scenario) error {
	sessions := b.shared
	if sc.op == opSaveOwn {
		sessions = b.own
	}
	return forEach(sessions[:sc.conc], 8, func(s *session) error { return s.reload(ctx) })
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

func (b *bench) counters(pid int) counters {
	c := counters{upstream: b.stand.emu.Stats(), conns: b.stand.emuConns.n.Load(), idp: b.stand.idp.Stats(), cpuTicks: processTicks(pid)}
	c.proxyRefr, _ = b.proxy.refreshes()
	return c
}

// effectiveTokenLife is how long the app uses an access token before it renews it: two minutes
// before expiry, or after three quarters of its life for short-lived tokens (internal/auth).
func effectiveTokenLife(life time.Duration) time.Duration {
	return life - min(2*time.Minute, life/4)
}

// cpuSample is CPU time in clock ticks: the whole machine busy, and each of our processes.
type cpuSample struct {
	busy, self, app, proxy int64
}

func (b *bench) cpuTimes() cpuSample {
	return cpuSample{busy: machineBusyTicks(), self: processTicks(os.Getpid()), app: processTicks(b.app.pid()),
		proxy: processTicks(b.proxy.cmd.Process.Pid)}
}

func (c cpuSample) since(start cpuSample) cpuSample {
	return cpuSample{busy: c.busy - start.busy, self: c.self - start.self, app: c.app - start.app, proxy: c.proxy - start.proxy}
}
