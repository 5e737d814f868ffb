package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Targets (issue 12's "done when"; sizes are decimal: 1 KB = 1000 bytes, 1 MB = 1000000 bytes).
// The performance targets are checked on the median of the runs: the run whose figure is the
// median, so that the value shown and its parts (app, proxy) come from the same run.
const (
	targetSessions        = 50                     // the session count of the CPU, allocation and slow-upstream targets
	targetAddedCPUPerView = 120 * time.Microsecond // app CPU per page view over the proxy's, instant upstream
	targetLoneAddedP50    = 300 * time.Microsecond // one session, instant upstream
	targetSlowAddedP99    = 5 * time.Millisecond   // with the injected upstream latency
	targetRSSBytes        = 50_000_000
	targetRender          = 15 * time.Microsecond
	targetFirstLoadBytes  = 30_000
	targetStartToReady    = 300 * time.Millisecond
	// allocsPerViewBefore is what the app allocated per page view before the work on issue 12:
	// commit e00e9e9, 50 sessions, instant upstream, 860 in each of three runs with 5 s windows
	// (go run ./cmd/bench --runs 3 --sessions 1,50 --ops view; 859 to 873 at every level and
	// upstream latency). The target is half of it.
	allocsPerViewBefore = 860
	// The anonymous flood (issue 13): what the app keeps may grow by a few digits, never per
	// request; its memory stays bounded whatever outsiders send.
	targetFloodGrowth  = 4_000
	targetFloodPeakRSS = 100_000_000
)

// check is one target, met or missed, with the measured value and by how much it missed.
type check struct {
	target string
	result string
	ok     bool
}

func (r *report) checks() []check {
	return slices.Concat(r.performanceChecks(), r.upstreamChecks(), r.weightChecks(), r.processChecks(), r.historyChecks(), r.downloadsChecks(), r.floodChecks())
}

// failedGuarantees are the checks that must hold in every mode (exitUnsafe, not only with
// --strict), the flood's, that did not.
func (r *report) failedGuarantees() []string {
	var out []string
	for _, c := range r.floodChecks() {
		if !c.ok {
			out = append(out, c.target+": "+c.result)
		}
	}
	return out
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

// missedBy says by how much a value over its limit missed.
func missedBy[T time.Duration | float64 | int64](value, limit T, format func(T) string) string {
	if value <= limit {
		return ""
	}
	return "; missed by " + format(value-limit)
}

func (r *report) performanceChecks() []check {
	var cs []check
	n := nearestLevel(r.opts.levels, targetSessions)
	if f, ok := r.medianRun(opView, 0, n, func(f figures) float64 { return float64(f.addedCPU) }); ok {
		cs = append(cs, check{
			target: fmt.Sprintf("page view: app CPU ≤ the proxy's + %s, instant upstream, %s", us0(targetAddedCPUPerView), sessionsText(n)),
			result: fmt.Sprintf("%s (app %s, bare proxy %s per view)%s", signedUS(f.addedCPU), us0(f.appCPU), us0(f.proxyCPU),
				missedBy(f.addedCPU, targetAddedCPUPerView, us0)),
			ok: f.addedCPU <= targetAddedCPUPerView})
	}
	if f, ok := r.medianRun(opView, 0, n, func(f figures) float64 { return f.appAllocs }); ok {
		cs = append(cs, r.allocsCheck(f, n))
	}
	lone := slices.Min(r.opts.levels)
	if f, ok := r.medianRun(opView, 0, lone, func(f figures) float64 { return float64(f.addedP50) }); ok {
		cs = append(cs, check{
			target: fmt.Sprintf("page view: added p50 ≤ %s, instant upstream, %s", ms(targetLoneAddedP50), sessionsText(lone)),
			result: fmt.Sprintf("%s (app %s, bare proxy %s)%s", signedMS(f.addedP50), ms(f.appP50), ms(f.proxyP50),
				missedBy(f.addedP50, targetLoneAddedP50, ms)),
			ok: f.addedP50 <= targetLoneAddedP50})
	}
	if f, ok := r.medianRun(opView, r.opts.latency, n, func(f figures) float64 { return float64(f.addedP99) }); ok {
		cs = append(cs, check{
			target: fmt.Sprintf("page view: added p99 ≤ %s, %s upstream, %s", ms(targetSlowAddedP99), r.opts.latency, sessionsText(n)),
			result: fmt.Sprintf("%s (app %s, bare proxy %s)%s", signedMS(f.addedP99), ms(f.appP99), ms(f.proxyP99),
				missedBy(f.addedP99, targetSlowAddedP99, ms)),
			ok: f.addedP99 <= targetSlowAddedP99})
	}
	return cs
}

func (r *report) allocsCheck(f figures, n int) check {
	limit := float64(allocsPerViewBefore) / 2
	c := check{target: fmt.Sprintf("page view: allocations ≤ half of those before issue 12 (%d), instant upstream, %s", allocsPerViewBefore, sessionsText(n)),
		ok: allocsPerViewBefore > 0 && f.appAllocs <= limit}
	c.result = fmt.Sprintf("%.0f per view, from the app's runtime (go_memstats_mallocs_total)%s", f.appAllocs,
		missedBy(f.appAllocs, limit, func(v float64) string { return fmt.Sprintf("%.0f", v) }))
	return c
}

// upstreamChecks count, over every run, the upstream calls and the token refreshes.
func (r *report) upstreamChecks() []check {
	var cs []check
	var views, gets, puts, refused, saves, saved, conflicts, sgets, sputs, srefused int
	for _, run := range r.runs {
		for _, sc := range run.scenarios {
			a := sc.app
			if sc.op == opView {
				views, gets, puts, refused = views+a.Requests, gets+a.upstream.Gets, puts+a.upstream.Puts, refused+a.upstream.Refused
				continue
			}
			saves, saved, conflicts = saves+a.Requests, saved+a.Outcomes[outcomeSaved], conflicts+a.Outcomes[outcomeConflict]
			sgets, sputs, srefused = sgets+a.upstream.Gets, sputs+a.upstream.Puts, srefused+a.upstream.Refused
		}
	}
	if views > 0 {
		cs = append(cs, check{"exactly one upstream GET per page view", fmt.Sprintf("%d page views: %d GETs, %d PUTs, %d refused upstream",
			views, gets, puts, refused), gets == views && puts == 0 && refused == 0})
	}
	if saves > 0 {
		cs = append(cs, check{"one upstream GET and one PUT per save",
			fmt.Sprintf("%d saves: %d GETs, %d PUTs, %d refused upstream; %d saved, %d answered with a conflict after the GET alone",
				saves, sgets, sputs, srefused, saved, conflicts), sgets == saves && sputs == saved && srefused == 0})
	}
	for i, run := range r.runs {
		if c, ok := r.refreshCheck(i, run); ok {
			cs = append(cs, c)
		}
	}
	return cs
}

func (r *report) refreshCheck(i int, run *runResult) (check, bool) {
	rr := run.refresh
	if rr == nil {
		return check{}, false
	}
	loadRefreshes := 0
	for _, sc := range run.scenarios {
		loadRefreshes += sc.app.refreshes
	}
	return check{"one token refresh per token lifetime per session" + r.runLabel(i), fmt.Sprintf(
		"%d sessions busy for %s with %s tokens (renewed after %s): %d refreshes, %d to %d expected; %d refused; "+
			"%d page views meanwhile, %d upstream GETs, %d refused upstream; %d refreshes during the load (tokens of %s)",
		rr.sessions, rr.span.Round(time.Second), rr.lifetime, rr.effective, rr.refreshes, rr.min, rr.max, rr.refused,
		rr.views, rr.upstream.Gets, rr.upstream.Refused, loadRefreshes, r.opts.tokenLifetime), rr.ok()}, true
}

// weightChecks are the first run's page weight (it does not vary between runs).
func (r *report) weightChecks() []check {
	w := r.runs[0].weight
	cs := []check{{fmt.Sprintf("first page load ≤ %s compressed in all", kb(targetFirstLoadBytes)),
		fmt.Sprintf("%s on the wire (%s decoded), %d responses%s", kb(w.FirstWire), kb(w.FirstRaw), len(w.First),
			missedBy(int64(w.FirstWire), targetFirstLoadBytes, func(n int64) string { return kb(int(n)) })),
		w.FirstWire > 0 && w.FirstWire <= targetFirstLoadBytes}}
	repeat := check{target: "a repeat load fetches no static asset again", ok: len(w.Refetched) == 0 && len(w.Repeat) == 1,
		result: fmt.Sprintf("the page only (%s); every asset is immutable for a year under an unchanged URL", kb(w.RepeatWire))}
	if len(w.Refetched) > 0 {
		repeat.result = "fetched again: " + strings.Join(w.Refetched, ", ")
	}
	var plain []string
	for _, res := range w.First {
		if res.Kind != "icon" && res.Encoding != "gzip" {
			plain = append(plain, res.Path)
		}
	}
	return append(cs, repeat, check{"HTML, CSS and JS compressed", orNone("uncompressed: ", plain, "all gzip"), len(w.First) > 0 && len(plain) == 0})
}

// processChecks are memory (median of the runs), start-up (the worst of every start) and render
// (median of the runs' medians).
func (r *report) processChecks() []check {
	var cs []check
	rss := median(mapSlice(r.runs, func(run *runResult) int64 { return run.mem.RSS }))
	if rss > 0 {
		m := r.runs[0].mem
		cs = append(cs, check{fmt.Sprintf("resident memory ≤ %s after the full run", mb(targetRSSBytes)),
			fmt.Sprintf("%s right after the run%s (%s%s anonymous, %s file-backed; peak %s; %s after %s idle)%s", mb(rss), r.medianNote(),
				strings.ToLower(runPrefix(0, len(r.runs))), mb(m.Anon), mb(m.File), mb(m.Peak), mb(r.runs[0].memIdle.RSS), r.opts.idle,
				missedBy(rss, targetRSSBytes, mb)),
			rss <= targetRSSBytes})
	}
	if starts := r.allStarts(); len(starts) > 0 {
		worst := slices.Max(starts)
		cs = append(cs, check{fmt.Sprintf("start to ready ≤ %s", ms(targetStartToReady)),
			fmt.Sprintf("%s at worst of %d starts (median %s)%s", ms(worst), len(starts), ms(median(starts)), missedBy(worst, targetStartToReady, ms)),
			worst <= targetStartToReady})
	}
	if l, ok := r.renderOf("BenchmarkRenderProfilePage"); ok {
		d := time.Duration(l.NsOp)
		cs = append(cs, check{fmt.Sprintf("form page render ≤ %s", us(targetRender)),
			fmt.Sprintf("%s, %d allocations, %d bytes per render%s", us(d), l.Allocs, l.Bytes, missedBy(d, targetRender, us)),
			d <= targetRender})
	}
	return cs
}

// floodChecks are every run's anonymous flood.
func (r *report) floodChecks() []check {
	var cs []check
	for i, run := range r.runs {
		f := run.flood
		if f == nil {
			continue
		}
		sent := fmt.Sprintf("%d anonymous requests", f.requests)
		grown := func(before, after int64) string {
			return fmt.Sprintf("%s: %d B before, %d B after (%+d B)%s", sent, before, after, after-before,
				missedBy(after-before, targetFloodGrowth, func(n int64) string { return kb(int(n)) }))
		}
		dataGrowth, metricsGrowth := f.dataAfter-f.dataBefore, int64(f.metricsAft-f.metricsBefore)
		label := r.runLabel(i)
		cs = append(cs,
			check{fmt.Sprintf("anonymous flood: the data directory grows ≤ %s%s", kb(targetFloodGrowth), label),
				grown(f.dataBefore, f.dataAfter), dataGrowth <= targetFloodGrowth},
			check{fmt.Sprintf("anonymous flood: /metrics grows ≤ %s after a warm-up%s", kb(targetFloodGrowth), label),
				grown(int64(f.metricsBefore), int64(f.metricsAft)), metricsGrowth <= targetFloodGrowth},
			check{fmt.Sprintf("anonymous flood: the app's resident memory ≤ %s throughout%s", mb(targetFloodPeakRSS), label),
				fmt.Sprintf("%s at most (VmHWM %s; VmRSS read every 10 ms during the flood: at most %s)%s", mb(f.peak()), mb(f.hwm), mb(f.sampledPeak),
					missedBy(f.peak(), targetFloodPeakRSS, mb)), f.peak() > 0 && f.peak() <= targetFloodPeakRSS},
			check{"anonymous flood: every request answered, none with 5xx" + label,
				fmt.Sprintf("%s: %d unanswered, %d answered 5xx%s", sent, f.noAnswer, f.serverErrors, firstFailure(f)),
				f.requests > 0 && f.noAnswer == 0 && f.serverErrors == 0})
	}
	return cs
}

func firstFailure(f *floodResult) string {
	if f.firstFailure == "" {
		return ""
	}
	return " (first: " + f.firstFailure + ")"
}
