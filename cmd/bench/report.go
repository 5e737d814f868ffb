package main

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"pcsupport/cmd/bench/internal/gobench"
	"pcsupport/cmd/bench/internal/pageweight"
	"pcsupport/cmd/bench/internal/proc"
)

// report is every run of one invocation.
type report struct {
	opts       options
	machine    string
	binarySize int64 // of the production build
	runs       []*runResult
}

// figuresOf is a scenario's figures in every run.
func (r *report) figuresOf(op string, latency time.Duration, conc int) []figures {
	var fs []figures
	for _, run := range r.runs {
		for _, sc := range run.scenarios {
			if sc.op == op && sc.latency == latency && sc.conc == conc {
				fs = append(fs, sc.figures())
			}
		}
	}
	return fs
}

// medianRun is the figures of the run whose key is the median of the runs' (the lower of the
// two middle ones for an even count), so that a target's value and its parts come from one run.
func (r *report) medianRun(op string, latency time.Duration, conc int, key func(figures) float64) (figures, bool) {
	fs := r.figuresOf(op, latency, conc)
	if len(fs) == 0 {
		return figures{}, false
	}
	slices.SortFunc(fs, func(a, b figures) int { return cmp.Compare(key(a), key(b)) })
	return fs[(len(fs)-1)/2], true
}

func (r *report) allStarts() []time.Duration {
	var all []time.Duration
	for _, run := range r.runs {
		all = append(all, run.starts...)
	}
	return all
}

// renderOf is a render benchmark's line, its time the median of the runs' medians.
func (r *report) renderOf(name string) (gobench.Line, bool) {
	var lines []gobench.Line
	for _, run := range r.runs {
		for _, l := range run.render {
			if l.Name == name {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) == 0 {
		return gobench.Line{}, false
	}
	l := lines[0]
	l.NsOp = median(mapSlice(lines, func(l gobench.Line) float64 { return l.NsOp }))
	return l, true
}

func (r *report) runLabel(i int) string {
	if len(r.runs) == 1 {
		return ""
	}
	return fmt.Sprintf(" (run %d)", i+1)
}

func (r *report) medianNote() string {
	if len(r.runs) == 1 {
		return ""
	}
	return fmt.Sprintf(", median of %d runs", len(r.runs))
}

// broken lists what could not be measured.
func (r *report) broken() []string {
	var out []string
	for i, run := range r.runs {
		for _, b := range run.broken {
			out = append(out, b+r.runLabel(i))
		}
		if rr := run.refresh; rr != nil && rr.errors > 0 {
			out = append(out, fmt.Sprintf("token refresh check%s: %d errors (first: %s)", r.runLabel(i), rr.errors, rr.errorMsgs[0]))
		}
		for _, sc := range run.scenarios {
			if sc.proxy.Errors > 0 || sc.app.Errors > 0 {
				out = append(out, fmt.Sprintf("%s%s: %d errors through the proxy, %d through the app (first: %v)", sc, r.runLabel(i),
					sc.proxy.Errors, sc.app.Errors, append(sc.proxy.ErrorMsgs, sc.app.ErrorMsgs...)[0]))
			}
			for _, u := range append(sc.proxy.unmeasured, sc.app.unmeasured...) {
				out = append(out, fmt.Sprintf("%s%s: could not read %s", sc, r.runLabel(i), u))
			}
		}
	}
	return out
}

func (r *report) markdown() string {
	var b strings.Builder
	r.writeHeader(&b)
	r.writeTargets(&b)
	if len(r.opts.operations()) > 0 {
		r.writeHeadline(&b)
		for i, run := range r.runs {
			r.writeDetails(&b, i, run)
		}
	}
	writeWeight(&b, r.runs[0].weight)
	r.writeProcess(&b)
	r.writeHistory(&b)
	r.writeDownloads(&b)
	for i, run := range r.runs {
		if run.flood != nil {
			writeFlood(&b, runPrefix(i, len(r.runs)), run.flood)
		}
	}
	for _, run := range r.runs {
		if run.profile != nil {
			writeProfile(&b, run.profile)
		}
	}
	if broken := r.broken(); len(broken) > 0 {
		fmt.Fprintf(&b, "\n### The bench could not measure everything\n\n")
		for _, s := range broken {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	return b.String()
}

func (r *report) writeHeader(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	mode := "full"
	if r.opts.short {
		mode = "short (a check that the bench works; its numbers are not the results)"
	}
	p("## Run of %s\n\n", r.runs[0].started.UTC().Format("2006-01-02 15:04 MST"))
	p("- Command: `go run ./cmd/bench %s`, mode %s, %d run(s)\n", strings.Join(os.Args[1:], " "), mode, len(r.runs))
	p("- Machine: %s\n", r.machine)
	for i, run := range r.runs {
		p("- %sLoad average before %s, after %s; %s\n", runPrefix(i, len(r.runs)), run.loadBefore, run.loadAfter, cpuLine(run))
	}
	p("- Sessions signed in through the dev provider for the load: %d; token lifetime %s\n", r.runs[0].signIns, r.opts.tokenLifetime)
	if r.opts.profileDir != "" {
		p("- The app measured was built with `%s` (the production build plus the loopback profiling listener)\n", buildLine(profilingTags))
	}
	if len(r.opts.appEnv) > 0 {
		p("- The app's environment had in addition: `%s`\n", strings.Join(r.opts.appEnv, " "))
	}
	p("\n")
}

func runPrefix(i, n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf("Run %d: ", i+1)
}

// cpuLine says where the CPU time went during the load, and how much other work the machine did.
func cpuLine(run *runResult) string {
	c := run.cpu
	if c.busy <= 0 {
		return "CPU not read"
	}
	other := max(c.busy-c.self-c.app-c.proxy, 0)
	avail := run.loadDuration.Seconds() * float64(runtime.NumCPU())
	return fmt.Sprintf("CPU during the load (%s): the app %.1f s, the bare proxy %.1f s, this process (load generator, emulator, "+
		"sign-in provider) %.1f s; other work on the machine %.1f s of %.0f CPU-seconds available (%.0f%%)",
		run.loadDuration.Round(time.Second), secs(c.app), secs(c.proxy), secs(c.self), secs(other), avail, 100*secs(other)/avail)
}

func (r *report) writeTargets(b *strings.Builder) {
	fmt.Fprintf(b, "### Targets%s\n\n| target | result | |\n|---|---|---|\n", r.medianNote())
	for _, c := range r.checks() {
		mark := "met"
		if !c.ok {
			mark = "**missed**"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", c.target, c.result, mark)
	}
	b.WriteString("\n")
}

// writeHeadline is the CPU time each process spent per request it served, with the secondary
// figures beside it.
func (r *report) writeHeadline(b *strings.Builder) {
	fmt.Fprintf(b, "### CPU per request: the app's process against the bare proxy's%s\n\n", r.medianNote())
	b.WriteString("CPU time is read in clock ticks of 10 ms: \"±\" is one tick over the requests served, the resolution of a row.")
	if len(r.runs) > 1 {
		b.WriteString(" Each column is its own median over the runs.")
	}
	b.WriteString("\n\n")
	b.WriteString("| operation | upstream | sessions | proxy CPU | app CPU | app − proxy | ± | app allocations | proxy /s | app /s | app ÷ proxy | added p50 | added p99 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, op := range r.opts.operations() {
		for _, lat := range []time.Duration{0, r.opts.latency} {
			for _, n := range r.opts.levels {
				fs := r.figuresOf(op, lat, n)
				if len(fs) == 0 {
					continue
				}
				f := medianFigures(fs)
				fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %.0f | %.0f | %.0f | %.2f | %s | %s |\n", op, latencyText(lat), n,
					us0(f.proxyCPU), us0(f.appCPU), signedUS(f.addedCPU), us0(f.cpuResolution), f.appAllocs, f.proxyRate, f.appRate, f.ratio,
					signedMS(f.addedP50), signedMS(f.addedP99))
			}
		}
	}
	b.WriteString("\n")
}

// writeDetails is one run's tables, an operation each.
func (r *report) writeDetails(b *strings.Builder, i int, run *runResult) {
	for _, op := range r.opts.operations() {
		floor := "one GET through the bare proxy"
		if op != opView {
			floor = "a GET then a PUT through the bare proxy"
		}
		fmt.Fprintf(b, "### %s%s (floor: %s)\n\n", runPrefix(i, len(r.runs)), capitalize(op), floor)
		b.WriteString("| upstream | sessions | proxy /s | app /s | app ÷ proxy | proxy p50 | app p50 | added p50 | proxy p99 | app p99 | added p99 | CPU per request: proxy, app | new upstream connections: proxy, app | app upstream calls | app token refreshes | app RSS after |")
		sep := "\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		if op != opView {
			b.WriteString(" app outcomes |")
			sep += "---|"
		}
		b.WriteString(sep + "\n")
		for _, sc := range run.scenarios {
			if sc.op == op {
				writeDetailRow(b, sc)
			}
		}
		b.WriteString("\n")
	}
}

func writeDetailRow(b *strings.Builder, sc scenario) {
	f, a := sc.figures(), sc.app
	calls := "-"
	if n := a.Requests; n > 0 {
		calls = fmt.Sprintf("%d GET, %d PUT for %d (%.2f, %.2f each)", a.upstream.Gets, a.upstream.Puts, n,
			float64(a.upstream.Gets)/float64(n), float64(a.upstream.Puts)/float64(n))
		if a.upstream.Refused > 0 {
			calls += fmt.Sprintf(", %d refused", a.upstream.Refused)
		}
	}
	fmt.Fprintf(b, "| %s | %d | %.0f | %.0f | %.2f | %s | %s | %s | %s | %s | %s | %s, %s | %d, %d | %s | %d | %s |", latencyText(sc.latency), sc.conc,
		f.proxyRate, f.appRate, f.ratio, ms(f.proxyP50), ms(f.appP50), signedMS(f.addedP50), ms(f.proxyP99), ms(f.appP99), signedMS(f.addedP99),
		us0(f.proxyCPU), us0(f.appCPU), sc.proxy.upstreamConns, a.upstreamConns, calls, a.refreshes, mb(a.rssAfter))
	if sc.op != opView {
		fmt.Fprintf(b, " %d saved, %d conflicts |", a.Outcomes[outcomeSaved], a.Outcomes[outcomeConflict])
	}
	if sc.proxy.Errors+a.Errors > 0 {
		fmt.Fprintf(b, " errors: proxy %d, app %d", sc.proxy.Errors, a.Errors)
	}
	if sc.proxy.Cut || a.Cut {
		b.WriteString(" (requests cut at the drain limit)")
	}
	b.WriteString("\n")
}

func writeWeight(b *strings.Builder, w pageweight.Weight) {
	fmt.Fprintf(b, "### Page weight\n\nFirst load of the signed-in form page with `Accept-Encoding: %s`:\n\n", pageweight.BrowserAcceptEncoding)
	b.WriteString("| what | path | decoded | on the wire | encoding | Cache-Control |\n|---|---|---|---|---|---|\n")
	for _, res := range w.First {
		fmt.Fprintf(b, "| %s | `%s` | %d B | %d B | %s | `%s` |\n", res.Kind, res.Path, res.Raw, res.Wire, orDash(res.Encoding), res.CacheControl)
	}
	fmt.Fprintf(b, "| **first load** | | **%d B** | **%d B** | | (plus %d B of response headers) |\n", w.FirstRaw, w.FirstWire, w.FirstHeader)
	repeat := "the page only"
	if len(w.Refetched) > 0 {
		repeat = "assets fetched again: " + strings.Join(w.Refetched, ", ")
	}
	fmt.Fprintf(b, "| **repeat load** | | | **%d B** | | %d response(s): %s |\n\n", w.RepeatWire, len(w.Repeat), repeat)
}

func (r *report) writeProcess(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("### Start-up, size, memory, render\n\n")
	if starts := r.allStarts(); len(starts) > 0 {
		p("- Start to ready (process start until `/healthz` answers 200), %d starts: median %s, best %s, worst %s\n",
			len(starts), ms(median(starts)), ms(slices.Min(starts)), ms(slices.Max(starts)))
	}
	p("- Binary size (`%s`, as the Dockerfile): %s\n", buildLine(productionTags), mb(r.binarySize))
	for i, run := range r.runs {
		p("- %sResident memory of the app right after the run: %s (VmRSS: %s anonymous, %s file-backed, i.e. pages of the binary); "+
			"peak %s (VmHWM); after %s idle %s (%s anonymous)\n", runPrefix(i, len(r.runs)),
			mb(run.mem.RSS), mb(run.mem.Anon), mb(run.mem.File), mb(run.mem.Peak), r.opts.idle, mb(run.memIdle.RSS), mb(run.memIdle.Anon))
		if g := run.goMem; g.heapInUse > 0 {
			p("  - of the anonymous part, by the app's runtime at that moment: heap spans in use %s (objects live or not yet collected %s), "+
				"free heap kept for reuse %s, %d goroutines' stacks %s; the rest, %s, is the runtime's own bookkeeping, "+
				"SQLite's page caches and what the kernel counts before the runtime does\n",
				mb(g.heapInUse), mb(g.heapLive), mb(g.heapKept), g.goroutines, mb(g.stacks), mb(run.mem.Anon-g.heapInUse-g.heapKept-g.stacks))
		}
	}
	for i, run := range r.runs {
		if len(run.render) > 0 {
			p("- %sRender (`%s`):\n", runPrefix(i, len(r.runs)), run.renderCmd)
		}
		for _, l := range run.render {
			spread := ""
			if l.Runs > 1 {
				spread = fmt.Sprintf(" (median of %d runs; best %s)", l.Runs, us(time.Duration(l.Best)))
			}
			p("  - %s: %s%s, %d B and %d allocations per render\n", l.Name, us(time.Duration(l.NsOp)), spread, l.Bytes, l.Allocs)
		}
	}
}

func writeProfile(b *strings.Builder, p *profileResult) {
	fmt.Fprintf(b, "\n### Profiles of the app: page views, %s, instant upstream, %d s\n\n", sessionsText(p.sessions), p.seconds)
	fmt.Fprintf(b, "Saved in `%s`: `cpu.pprof`, `allocs.pprof` (allocations during the window) and `heap.pprof` (what is live before it). Explore with "+
		"`go tool pprof -http : %s/cpu.pprof`.\n\n", p.dir, p.dir)
	fmt.Fprintf(b, "CPU (`go tool pprof -top -nodecount=20 cpu.pprof`):\n\n```\n%s\n```\n\n", p.cpuTop)
	fmt.Fprintf(b, "Allocations (`go tool pprof -top -nodecount=20 -sample_index=alloc_objects allocs.pprof`):\n\n```\n%s\n```\n\n", p.allocsTop)
	fmt.Fprintf(b, "Live heap after every measured phase, before the profiled one (`go tool pprof -top -nodecount=20 -sample_index=inuse_space heap.pprof`):\n\n```\n%s\n```\n", p.heapTop)
}

func latencyText(lat time.Duration) string {
	if lat == 0 {
		return "instant"
	}
	return "+" + lat.String()
}

func secs(ticks int64) float64 { return proc.TicksToDuration(ticks).Seconds() }

func writeFlood(b *strings.Builder, prefix string, f *floodResult) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\n### %sAnonymous flood\n\n", prefix)
	p("An app of its own (file sessions in a data directory of its own), sent %d requests, %d at a time, by visitors who never sign in: "+
		"in turn the sign-in start with a %d KB return path, the page without a session, and `POST /save` with three %d-character fields "+
		"and a valid CSRF token (from the `pcs_csrf` cookie of the signed-out page); one in %d with a made-up HTTP method (%d in all). "+
		"Before them a warm-up of %d, so that each kind's series is on `/metrics` already.\n\n",
		f.requests, floodWorkers, floodNextSize>>10, floodFieldSize, floodMethodsEvery, f.madeUp, floodWarmupEach*floodMethodsEvery)
	var answers []string
	for _, kind := range []string{kindSignIn, kindPage, kindSave, kindMethod} {
		var sts []string
		for _, st := range slices.Sorted(maps.Keys(f.answers[kind])) {
			sts = append(sts, fmt.Sprintf("%d × %d", f.answers[kind][st], st))
		}
		answers = append(answers, kind+" "+orDash(strings.Join(sts, ", ")))
	}
	perRequest := time.Duration(0)
	if f.requests > 0 {
		perRequest = proc.TicksToDuration(f.cpuTicks) / time.Duration(f.requests)
	}
	p("- Answers: %s; %d answered 5xx, %d unanswered; %s in all (%.0f/s), app CPU %s per request\n", strings.Join(answers, "; "),
		f.serverErrors, f.noAnswer, f.took.Round(time.Millisecond), float64(f.requests)/f.took.Seconds(), us0(perRequest))
	p("- Data directory: %d B at start, %d B after (%+d B)\n", f.dataBefore, f.dataAfter, f.dataAfter-f.dataBefore)
	p("- `/metrics`: %d B after the warm-up, %d B after (%+d B)\n", f.metricsBefore, f.metricsAft, f.metricsAft-f.metricsBefore)
	p("- Resident memory of the app: VmHWM %s after the flood; VmRSS read every 10 ms during it: at most %s (Linux updates VmHWM lazily; "+
		"the check takes the larger)\n", mb(f.hwm), mb(f.sampledPeak))
}
