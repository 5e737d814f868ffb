package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Targets (issue 6). Sizes are decimal: 1 KB = 1000 bytes, 1 MB = 1000000 bytes.
const (
	targetThroughputRatio = 0.8
	targetAddedP99        = 2 * time.Millisecond
	targetFirstLoadBytes  = 30_000
	targetRSSBytes        = 50_000_000
	targetStartToReady    = 300 * time.Millisecond
	targetRender          = 50 * time.Microsecond
)

// report is everything one run measured.
type report struct {
	opts                  options
	started               time.Time
	machine               string
	loadBefore, loadAfter string
	binarySize            int64
	starts                []time.Duration
	weight                pageWeight
	scenarios             []scenario
	loadDuration          time.Duration
	cpu                   cpuSample
	mem, memIdle          memUsage // right after the load, and after o.idle without requests
	signIns               int
	refresh               *refreshResult
	render                []benchLine
	renderCmd             string
	broken                []string
}

// check is one target, met or missed, with the measured value and by how much it missed.
type check struct {
	target string
	result string
	ok     bool
}

func (r *report) find(op string, latency time.Duration, conc int) (scenario, bool) {
	for _, sc := range r.scenarios {
		if sc.op == op && sc.latency == latency && sc.conc == conc {
			return sc, true
		}
	}
	return scenario{}, false
}

func (r *report) checks() []check {
	var cs []check
	add := func(target string, ok bool, format string, a ...any) {
		cs = append(cs, check{target: target, ok: ok, result: fmt.Sprintf(format, a...)})
	}
	maxLevel := slices.Max(r.opts.levels)

	for _, n := range r.opts.levels {
		sc, ok := r.find(opView, 0, n)
		if !ok {
			continue
		}
		ratio := ratio(sc.app.throughput(), sc.proxy.throughput())
		res := fmt.Sprintf("%.2f× (app %.0f/s, bare proxy %.0f/s)", ratio, sc.app.throughput(), sc.proxy.throughput())
		if ratio < targetThroughputRatio {
			res += fmt.Sprintf("; missed by %.2f×", targetThroughputRatio-ratio)
		}
		add(fmt.Sprintf("page-view throughput ≥ %.1f× the bare proxy's, instant upstream, %s", targetThroughputRatio, sessionsText(n)),
			ratio >= targetThroughputRatio, "%s", res)
	}
	if sc, ok := r.find(opView, r.opts.latency, maxLevel); ok {
		added := percentile(sc.app.latencies, 99) - percentile(sc.proxy.latencies, 99)
		res := fmt.Sprintf("%s (app %s, bare proxy %s)", signedMS(added), ms(percentile(sc.app.latencies, 99)), ms(percentile(sc.proxy.latencies, 99)))
		if added > targetAddedP99 {
			res += fmt.Sprintf("; missed by %s", ms(added-targetAddedP99))
		}
		add(fmt.Sprintf("page view: added p99 ≤ %s, %s upstream, %s", ms(targetAddedP99), r.opts.latency, sessionsText(maxLevel)),
			added <= targetAddedP99, "%s", res)
	}

	var views, gets, puts, refused int
	for _, sc := range r.scenarios {
		if sc.op == opView {
			views += sc.app.requests
			gets += sc.app.upstream.Gets
			puts += sc.app.upstream.Puts
			refused += sc.app.upstream.Refused
		}
	}
	if views > 0 {
		add("exactly one upstream GET per page view", gets == views && puts == 0 && refused == 0,
			"%d page views: %d GETs, %d PUTs, %d refused upstream", views, gets, puts, refused)
	}

	var attempts, saved, conflicts int
	gets, puts, refused = 0, 0, 0
	for _, sc := range r.scenarios {
		if sc.op != opView {
			attempts += sc.app.requests
			saved += sc.app.outcomes[outcomeSaved]
			conflicts += sc.app.outcomes[outcomeConflict]
			gets += sc.app.upstream.Gets
			puts += sc.app.upstream.Puts
			refused += sc.app.upstream.Refused
		}
	}
	if attempts > 0 {
		add("one upstream GET and one PUT per save", gets == attempts && puts == saved && refused == 0,
			"%d saves: %d GETs, %d PUTs, %d refused upstream; %d saved, %d answered with a conflict after the GET alone",
			attempts, gets, puts, refused, saved, conflicts)
	}

	var loadRefreshes int
	for _, sc := range r.scenarios {
		loadRefreshes += sc.app.refreshes
	}
	if rr := r.refresh; rr != nil {
		add("one token refresh per token lifetime per session", rr.ok(),
			"%d sessions busy for %s with %s tokens (renewed after %s): %d refreshes, %d to %d expected; %d refused; "+
				"%d page views meanwhile, %d upstream GETs, %d refused upstream; %d refreshes during the load (tokens of %s)",
			rr.sessions, rr.span.Round(time.Second), rr.lifetime, rr.effective, rr.refreshes, rr.min, rr.max, rr.refused,
			rr.views, rr.upstream.Gets, rr.upstream.Refused, loadRefreshes, r.opts.tokenLifetime)
	}

	w := r.weight
	res := fmt.Sprintf("%s on the wire (%s decoded), %d responses", kb(w.firstWire), kb(w.firstRaw), len(w.first))
	if w.firstWire > targetFirstLoadBytes {
		res += fmt.Sprintf("; missed by %s", kb(w.firstWire-targetFirstLoadBytes))
	}
	add(fmt.Sprintf("first page load ≤ %s compressed in all", kb(targetFirstLoadBytes)), w.firstWire > 0 && w.firstWire <= targetFirstLoadBytes, "%s", res)
	if len(w.refetched) == 0 {
		add("a repeat load fetches no static asset again", len(w.repeat) == 1, "the page only (%s); every asset is immutable for a year under an unchanged URL", kb(w.repeatWire))
	} else {
		add("a repeat load fetches no static asset again", false, "fetched again: %s", strings.Join(w.refetched, ", "))
	}
	var plain []string
	for _, res := range w.first {
		if res.kind != "icon" && res.encoding != "gzip" {
			plain = append(plain, res.path)
		}
	}
	add("HTML, CSS and JS compressed", len(w.first) > 0 && len(plain) == 0, "%s", orNone("uncompressed: ", plain, "all gzip"))

	if m := r.mem; m.rss > 0 {
		res := fmt.Sprintf("%s right after the run (%s anonymous, %s file-backed; peak %s); %s after %s idle",
			mb(m.rss), mb(m.anon), mb(m.file), mb(m.peak), mb(r.memIdle.rss), r.opts.idle)
		if m.rss > targetRSSBytes {
			res += fmt.Sprintf("; missed by %s", mb(m.rss-targetRSSBytes))
		}
		add(fmt.Sprintf("resident memory ≤ %s after the run", mb(targetRSSBytes)), m.rss <= targetRSSBytes, "%s", res)
	}
	if len(r.starts) > 0 {
		worst := slices.Max(r.starts)
		res := fmt.Sprintf("%s at worst of %d starts (median %s)", ms(worst), len(r.starts), ms(median(r.starts)))
		if worst > targetStartToReady {
			res += fmt.Sprintf("; missed by %s", ms(worst-targetStartToReady))
		}
		add(fmt.Sprintf("start to ready ≤ %s", ms(targetStartToReady)), worst <= targetStartToReady, "%s", res)
	}
	for _, l := range r.render {
		if l.name == "BenchmarkRenderProfilePage" {
			d := time.Duration(l.nsOp)
			res := fmt.Sprintf("%s, %d allocations, %d bytes per render", us(d), l.allocs, l.bytes)
			if d > targetRender {
				res += fmt.Sprintf("; missed by %s", us(d-targetRender))
			}
			add(fmt.Sprintf("form page render ≤ %s", us(targetRender)), d <= targetRender, "%s", res)
		}
	}
	return cs
}

func (r *report) misses() int {
	n := 0
	for _, c := range r.checks() {
		if !c.ok {
			n++
		}
	}
	return n
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	mode := "full"
	if r.opts.short {
		mode = "short (a check that the bench works; its numbers are not the results)"
	}
	p("## Run of %s\n\n", r.started.UTC().Format("2006-01-02 15:04 MST"))
	p("- Command: `go run ./cmd/bench %s`, mode %s\n", strings.Join(os.Args[1:], " "), mode)
	p("- Machine: %s\n", r.machine)
	p("- Load average before the run %s, after %s\n", r.loadBefore, r.loadAfter)
	if r.cpu.busy > 0 {
		ours := r.cpu.self + r.cpu.app + r.cpu.proxy
		other := max(r.cpu.busy-ours, 0)
		avail := r.loadDuration.Seconds() * float64(runtime.NumCPU())
		p("- CPU during the load (%s): the app %.1f s, the bare proxy %.1f s, this process (load generator, emulator, sign-in provider) %.1f s; "+
			"other work on the machine %.1f s of %.0f CPU-seconds available (%.0f%%)\n",
			r.loadDuration.Round(time.Second), secs(r.cpu.app), secs(r.cpu.proxy), secs(r.cpu.self), secs(other), avail, 100*secs(other)/avail)
	}
	p("- Sessions signed in through the dev provider for the load: %d; token lifetime %s\n", r.signIns, r.opts.tokenLifetime)
	if len(r.opts.appEnv) > 0 {
		p("- The app's environment had in addition: `%s`\n", strings.Join(r.opts.appEnv, " "))
	}
	p("\n")

	p("### Targets\n\n| target | result | |\n|---|---|---|\n")
	for _, c := range r.checks() {
		mark := "met"
		if !c.ok {
			mark = "**missed**"
		}
		p("| %s | %s | %s |\n", c.target, c.result, mark)
	}
	p("\n")

	for _, op := range []string{opView, opSave, opSaveOwn} {
		var rows []scenario
		for _, sc := range r.scenarios {
			if sc.op == op {
				rows = append(rows, sc)
			}
		}
		if len(rows) == 0 {
			continue
		}
		floor := "one GET through the bare proxy"
		if op != opView {
			floor = "a GET then a PUT through the bare proxy"
		}
		p("### %s (floor: %s)\n\n", capitalize(op), floor)
		p("| upstream | sessions | proxy /s | app /s | app ÷ proxy | proxy p50 | app p50 | added p50 | proxy p99 | app p99 | added p99 | CPU per request: proxy, app | new upstream connections: proxy, app | app upstream calls | app token refreshes | app RSS after | ")
		if op != opView {
			p("app outcomes | ")
		}
		p("\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
		if op != opView {
			p("---|")
		}
		p("\n")
		for _, sc := range rows {
			pp50, ap50 := percentile(sc.proxy.latencies, 50), percentile(sc.app.latencies, 50)
			pp99, ap99 := percentile(sc.proxy.latencies, 99), percentile(sc.app.latencies, 99)
			lat := "instant"
			if sc.latency > 0 {
				lat = "+" + sc.latency.String()
			}
			perReq := "-"
			if n := sc.app.requests; n > 0 {
				perReq = fmt.Sprintf("%d GET, %d PUT for %d (%.2f, %.2f each)", sc.app.upstream.Gets, sc.app.upstream.Puts, n,
					float64(sc.app.upstream.Gets)/float64(n), float64(sc.app.upstream.Puts)/float64(n))
				if sc.app.upstream.Refused > 0 {
					perReq += fmt.Sprintf(", %d refused", sc.app.upstream.Refused)
				}
			}
			p("| %s | %d | %.0f | %.0f | %.2f | %s | %s | %s | %s | %s | %s | %s, %s | %d, %d | %s | %d | %s |", lat, sc.conc, sc.proxy.throughput(), sc.app.throughput(),
				ratio(sc.app.throughput(), sc.proxy.throughput()), ms(pp50), ms(ap50), signedMS(ap50-pp50), ms(pp99), ms(ap99), signedMS(ap99-pp99),
				us0(sc.proxy.cpuPerRequest()), us0(sc.app.cpuPerRequest()), sc.proxy.upstreamConns, sc.app.upstreamConns, perReq, sc.app.refreshes, mb(sc.app.rssAfter))
			if op != opView {
				p(" %d saved, %d conflicts |", sc.app.outcomes[outcomeSaved], sc.app.outcomes[outcomeConflict])
			}
			if sc.proxy.errors+sc.app.errors > 0 {
				p(" errors: proxy %d, app %d", sc.proxy.errors, sc.app.errors)
			}
			if sc.proxy.cut || sc.app.cut {
				p(" (requests cut at the drain limit)")
			}
			p("\n")
		}
		p("\n")
	}

	w := r.weight
	p("### Page weight\n\nFirst load of the signed-in form page with `Accept-Encoding: %s`:\n\n", browserAcceptEncoding)
	p("| what | path | decoded | on the wire | encoding | Cache-Control |\n|---|---|---|---|---|---|\n")
	for _, res := range w.first {
		p("| %s | `%s` | %d B | %d B | %s | `%s` |\n", res.kind, res.path, res.raw, res.wire, orDash(res.encoding), res.cacheControl)
	}
	p("| **first load** | | **%d B** | **%d B** | | (plus %d B of response headers) |\n", w.firstRaw, w.firstWire, w.firstHeader)
	p("| **repeat load** | | | **%d B** | | %d response(s): %s |\n\n", w.repeatWire, len(w.repeat), repeatNote(w))

	p("### Start-up, size, memory, render\n\n")
	if len(r.starts) > 0 {
		p("- Start to ready (process start until `/healthz` answers 200), %d starts: median %s, best %s, worst %s\n",
			len(r.starts), ms(median(r.starts)), ms(slices.Min(r.starts)), ms(slices.Max(r.starts)))
	}
	p("- Binary size (`CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\"`, as the Dockerfile): %s\n", mb(r.binarySize))
	p("- Resident memory of the app right after the run: %s (VmRSS: %s anonymous, %s file-backed, i.e. pages of the binary); peak %s (VmHWM); after %s idle %s (%s anonymous)\n",
		mb(r.mem.rss), mb(r.mem.anon), mb(r.mem.file), mb(r.mem.peak), r.opts.idle, mb(r.memIdle.rss), mb(r.memIdle.anon))
	if len(r.render) > 0 {
		p("- Render (`%s`):\n", r.renderCmd)
		for _, l := range r.render {
			spread := ""
			if l.runs > 1 {
				spread = fmt.Sprintf(" (median of %d runs; best %s)", l.runs, us(time.Duration(l.best)))
			}
			p("  - %s: %s%s, %d B and %d allocations per render\n", l.name, us(time.Duration(l.nsOp)), spread, l.bytes, l.allocs)
		}
	}
	if len(r.broken) > 0 {
		p("\n### The bench could not measure everything\n\n")
		for _, s := range r.broken {
			p("- %s\n", s)
		}
	}
	return b.String()
}

func repeatNote(w pageWeight) string {
	if len(w.refetched) == 0 {
		return "the page only"
	}
	return "assets fetched again: " + strings.Join(w.refetched, ", ")
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }
func us0(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}
func signedMS(d time.Duration) string {
	return fmt.Sprintf("%+.2f ms", float64(d)/float64(time.Millisecond))
}
func kb(n int) string          { return fmt.Sprintf("%.1f KB", float64(n)/1000) }
func mb(n int64) string        { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
func secs(ticks int64) float64 { return float64(ticks) / ticksPerSecond }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNone(prefix string, items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return prefix + strings.Join(items, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sessionsText(n int) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}
