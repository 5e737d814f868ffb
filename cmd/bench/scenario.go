package main

import (
	"cmp"
	"slices"
	"time"

	"pcsupport/cmd/bench/internal/load"
	"pcsupport/cmd/bench/internal/proc"
	"pcsupport/internal/pcemu"
)

// Operations measured side by side, by the name --ops knows them by.
const (
	opView    = "page view"
	opSave    = "save, shared tenant"
	opSaveOwn = "save, tenant per session"
)

// Operations measured apart, without the proxy: the anonymous flood, saves with and without
// a working change history, and saves with and without downloads of the history held open.
const (
	opFlood       = "flood"
	opSaveHistory = "save-history"
	opSaveExports = "save-exports"
)

var (
	opNames = map[string]string{"view": opView, "save": opSave, "save-own": opSaveOwn}
	opFlags = []string{"view", "save", "save-own"} // the order of the report
	// allOps are the names --ops knows: the operations measured side by side, then the checks.
	allOps = append(slices.Clone(opFlags), opFlood, opSaveHistory, opSaveExports)
)

// needsOwnTenants: the sessions with a partner tenant each are signed in for these operations.
func (o options) needsOwnTenants() bool {
	return o.ops["save-own"] || o.ops[opSaveHistory] || o.ops[opSaveExports]
}

// operations are those asked for, in the order of the report.
func (o options) operations() []string {
	var ops []string
	for _, f := range opFlags {
		if o.ops[f] {
			ops = append(ops, opNames[f])
		}
	}
	return ops
}

// scenario is one row of the results: an operation at a concurrency and an upstream latency,
// through the bare proxy and through the app.
type scenario struct {
	op      string
	latency time.Duration
	conc    int
	proxy   side
	app     side
}

// side is one side of a scenario, with what was counted around it.
type side struct {
	load.Result
	upstream      pcemu.Stats
	upstreamConns int64 // connections this side opened to the emulator
	cpuTicks      int64 // CPU time of this side's process (the app or the bare proxy)
	allocs        int64 // heap objects the app allocated (app side only)
	refreshes     int   // token refreshes made by this side
	rssAfter      int64 // the app's resident memory right after the run
	unmeasured    []string
}

// cpuPerRequest is the CPU time the process under test spent per request it served.
func (s side) cpuPerRequest() time.Duration {
	if s.Requests == 0 {
		return 0
	}
	return proc.TicksToDuration(s.cpuTicks) / time.Duration(s.Requests)
}

func (s side) allocsPerRequest() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.allocs) / float64(s.Requests)
}

// figures are a scenario's numbers that runs are compared by (their medians) and targets
// checked against. Differences are taken within a run, then their median across runs.
type figures struct {
	proxyCPU, appCPU, addedCPU time.Duration // CPU per request
	cpuResolution              time.Duration // one clock tick over the fewer requests of the two sides
	appAllocs                  float64       // per request
	proxyRate, appRate, ratio  float64       // requests per second
	proxyP50, appP50, addedP50 time.Duration
	proxyP99, appP99, addedP99 time.Duration
}

func (sc scenario) figures() figures {
	f := figures{
		proxyCPU: sc.proxy.cpuPerRequest(), appCPU: sc.app.cpuPerRequest(), appAllocs: sc.app.allocsPerRequest(),
		proxyRate: sc.proxy.Throughput(), appRate: sc.app.Throughput(),
		proxyP50: load.Percentile(sc.proxy.Latencies, 50), appP50: load.Percentile(sc.app.Latencies, 50),
		proxyP99: load.Percentile(sc.proxy.Latencies, 99), appP99: load.Percentile(sc.app.Latencies, 99),
	}
	f.addedCPU, f.addedP50, f.addedP99 = f.appCPU-f.proxyCPU, f.appP50-f.proxyP50, f.appP99-f.proxyP99
	if n := min(sc.proxy.Requests, sc.app.Requests); n > 0 {
		f.cpuResolution = proc.TicksToDuration(1) / time.Duration(n)
	}
	if f.proxyRate > 0 {
		f.ratio = f.appRate / f.proxyRate
	}
	return f
}

// medianFigures is the median of each figure.
func medianFigures(fs []figures) figures {
	d := func(get func(figures) time.Duration) time.Duration { return median(mapSlice(fs, get)) }
	x := func(get func(figures) float64) float64 { return median(mapSlice(fs, get)) }
	return figures{
		proxyCPU: d(func(f figures) time.Duration { return f.proxyCPU }), appCPU: d(func(f figures) time.Duration { return f.appCPU }),
		addedCPU:      d(func(f figures) time.Duration { return f.addedCPU }),
		cpuResolution: d(func(f figures) time.Duration { return f.cpuResolution }),
		appAllocs:     x(func(f figures) float64 { return f.appAllocs }),
		proxyRate:     x(func(f figures) float64 { return f.proxyRate }), appRate: x(func(f figures) float64 { return f.appRate }),
		ratio:    x(func(f figures) float64 { return f.ratio }),
		proxyP50: d(func(f figures) time.Duration { return f.proxyP50 }), appP50: d(func(f figures) time.Duration { return f.appP50 }),
		addedP50: d(func(f figures) time.Duration { return f.addedP50 }),
		proxyP99: d(func(f figures) time.Duration { return f.proxyP99 }), appP99: d(func(f figures) time.Duration { return f.appP99 }),
		addedP99: d(func(f figures) time.Duration { return f.addedP99 }),
	}
}

// median is the middle value, or the mean of the two middle ones.
func median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.SortFunc(s, cmp.Compare[T])
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// nearestLevel is the session count among levels closest to want (the lower one on a tie).
func nearestLevel(levels []int, want int) int {
	best := levels[0]
	for _, n := range levels {
		if d, bd := abs(n-want), abs(best-want); d < bd || (d == bd && n < best) {
			best = n
		}
	}
	return best
}

func abs(n int) int { return max(n, -n) }
