package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"pcsupport/cmd/bench/internal/floor"
	"pcsupport/cmd/bench/internal/load"
	"pcsupport/cmd/bench/internal/proc"
	"pcsupport/internal/pcemu"
)

// measure runs one side of a scenario and reads the counters around it: the CPU time of that
// side's process, before and after, is what the headline divides by the requests it served.
func (b *bench) measure(ctx context.Context, sc scenario, onApp bool) side {
	var (
		do  load.Do
		pid int
		err error
	)
	if onApp {
		do, pid, err = b.appTarget(ctx, sc)
	} else {
		var tr *http.Transport
		do, pid, tr = b.proxyTarget(sc)
		defer tr.CloseIdleConnections()
	}
	if err != nil {
		return side{Result: load.Result{Errors: 1, ErrorMsgs: []string{err.Error()}}}
	}
	spec := load.Spec{Workers: sc.conc, Warmup: b.opts.warmup, Measure: b.opts.measure, MaxRequests: b.opts.maxRequests, Drain: time.Minute}
	if sc.op != opView {
		spec.Measure = b.opts.saveMeasure
	}
	before := b.counters(pid, onApp)
	res := load.Run(ctx, spec, do)
	after := b.counters(pid, onApp)
	s := after.since(before, onApp)
	s.Result = res
	if onApp {
		m, _ := proc.ReadMemory(pid)
		s.rssAfter = m.RSS
	}
	return s
}

// appTarget is what a session does through the app. Before a save run each person opens the
// page, as a person does before editing: the forms then hold what Partner Center has now (the
// proxy's run changed it), so a save conflicts only with another session's.
func (b *bench) appTarget(ctx context.Context, sc scenario) (load.Do, int, error) {
	sessions := b.shared
	if sc.op == opSaveOwn {
		sessions = b.own
	}
	if sc.op != opView {
		if err := forEach(sessions[:sc.conc], 8, func(s *session) error { return s.reload(ctx) }); err != nil {
			return nil, 0, err
		}
	}
	return func(ctx context.Context, w int) (int, error) {
		s := sessions[w]
		defer func() { s.lastUsed = time.Now() }()
		if sc.op == opView {
			return outcomeSaved, s.view(ctx)
		}
		return s.save(ctx)
	}, b.app.PID(), nil
}

// proxyTarget is the same through the bare proxy: one client per session, on one transport.
func (b *bench) proxyTarget(sc scenario) (load.Do, int, *http.Transport) {
	tr := newTransport(sc.conc)
	clients := make([]*floor.Client, sc.conc)
	next := make([]int, sc.conc)
	for i := range clients {
		clients[i], next[i] = floor.NewClient(tr, b.proxy.URL), 50000+i*100000
	}
	return func(ctx context.Context, w int) (int, error) {
		if sc.op == opView {
			return outcomeSaved, clients[w].View(ctx)
		}
		next[w]++
		return outcomeSaved, clients[w].Save(ctx, telephone(next[w]))
	}, b.proxy.PID(), tr
}

// counters is what was counted at one moment, for differences around a run.
type counters struct {
	upstream       pcemu.Stats
	conns          int64 // connections accepted by the emulator
	idpRefreshes   int
	proxyRefreshes int
	cpuTicks       int64 // CPU time of the process under test
	mallocs        int64 // heap objects allocated by the app so far
	errs           []string
}

func (b *bench) counters(pid int, onApp bool) counters {
	c := counters{upstream: b.stack.Emulator.Stats(), conns: b.stack.EmulatorConnections(), idpRefreshes: b.stack.Provider.Stats().Refreshes}
	var err error
	if c.cpuTicks, err = proc.CPUTicks(pid); err != nil {
		c.errs = append(c.errs, "CPU time: "+err.Error())
	}
	if c.proxyRefreshes, err = b.proxy.Refreshes(); err != nil {
		c.errs = append(c.errs, "the proxy's refreshes: "+err.Error())
	}
	if onApp {
		if c.mallocs, err = b.app.mallocs(); err != nil {
			c.errs = append(c.errs, "the app's allocations: "+err.Error())
		}
	}
	return c
}

// since is what one side did between before and c.
func (c counters) since(before counters, onApp bool) side {
	s := side{upstreamConns: c.conns - before.conns, cpuTicks: c.cpuTicks - before.cpuTicks, allocs: c.mallocs - before.mallocs,
		upstream: pcemu.Stats{Gets: c.upstream.Gets - before.upstream.Gets, Puts: c.upstream.Puts - before.upstream.Puts,
			Refused: c.upstream.Refused - before.upstream.Refused},
		unmeasured: append(before.errs, c.errs...)}
	proxyRefreshes := c.proxyRefreshes - before.proxyRefreshes
	s.refreshes = proxyRefreshes
	if onApp { // the provider counts both sides' refreshes
		s.refreshes = c.idpRefreshes - before.idpRefreshes - proxyRefreshes
	}
	return s
}

// cpuSample is CPU time in clock ticks: the whole machine busy, and each of our processes.
type cpuSample struct {
	busy, self, app, proxy int64
}

func (b *bench) cpuTimes() cpuSample {
	self, _ := proc.CPUTicks(b.selfPID)
	app, _ := proc.CPUTicks(b.app.PID())
	proxy, _ := proc.CPUTicks(b.proxy.PID())
	return cpuSample{busy: proc.MachineBusyTicks(), self: self, app: app, proxy: proxy}
}

func (c cpuSample) since(start cpuSample) cpuSample {
	return cpuSample{busy: c.busy - start.busy, self: c.self - start.self, app: c.app - start.app, proxy: c.proxy - start.proxy}
}

func (s scenario) String() string {
	return fmt.Sprintf("%-26s %3d sessions, upstream +%-5s", s.op, s.conc, s.latency)
}
