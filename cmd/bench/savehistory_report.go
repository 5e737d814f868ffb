package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"pcsupport/cmd/bench/internal/load"
)

// historyRow is one session count of the save-history comparison (or its page-view calibration),
// with the windows of every round of every run.
type historyRow struct {
	op                string
	conc              int
	recorded, failing []historySample
}

// historyRows are the saves by session count, then the calibration.
func (r *report) historyRows() []historyRow {
	var rows []historyRow
	for _, run := range r.runs {
		if run.history == nil {
			continue
		}
		for _, s := range run.history.samples {
			i := slices.IndexFunc(rows, func(row historyRow) bool { return row.op == s.op && row.conc == s.conc })
			if i < 0 {
				rows, i = append(rows, historyRow{op: s.op, conc: s.conc}), len(rows)
			}
			if s.variant == historyRecorded {
				rows[i].recorded = append(rows[i].recorded, s)
			} else {
				rows[i].failing = append(rows[i].failing, s)
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b historyRow) int { return boolOrder(a.op == opView, b.op == opView) })
	return rows
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// spread is a figure over rounds: its median and its range (the noise of the rounds).
type spread struct{ median, min, max float64 }

func spreadOf[T any](samples []T, figure func(T) float64) spread {
	xs := mapSlice(samples, figure)
	if len(xs) == 0 {
		return spread{}
	}
	return spread{median: median(xs), min: slices.Min(xs), max: slices.Max(xs)}
}

func (row historyRow) rates() (recorded, failing spread) {
	return spreadOf(row.recorded, historySample.rate), spreadOf(row.failing, historySample.rate)
}

// cpus are the app's CPU per request in microseconds.
func (row historyRow) cpus() (recorded, failing spread) {
	f := func(s historySample) float64 { return float64(s.cpuPerRequest()) / float64(time.Microsecond) }
	return spreadOf(row.recorded, f), spreadOf(row.failing, f)
}

// systemCPUs are the part of cpus spent in the kernel.
func (row historyRow) systemCPUs() (recorded, failing spread) {
	f := func(s historySample) float64 { return float64(s.perRequest(s.systemTicks)) / float64(time.Microsecond) }
	return spreadOf(row.recorded, f), spreadOf(row.failing, f)
}

// loss is how many saves per second recording costs (the medians' difference), and whether it
// is beyond the noise of the rounds: every round with the history failing faster than every
// round with it recorded, the ranges apart. For three rounds each, that happens by chance with
// a probability of 1 in 20 when recording costs nothing (a Mann-Whitney U of 0).
func (row historyRow) loss() (loss float64, beyondNoise bool) {
	rec, fail := row.rates()
	return fail.median - rec.median, fail.min > rec.max
}

func (r *report) historyChecks() []check {
	var cs []check
	for _, row := range r.historyRows() {
		if row.op != opSaveOwn || len(row.recorded) == 0 || len(row.failing) == 0 {
			continue
		}
		rec, fail := row.rates()
		loss, beyond := row.loss()
		verdict := "the rounds' ranges overlap"
		if beyond {
			verdict = fmt.Sprintf("beyond the noise: the slowest round with the history failing (%.0f/s) beat the fastest with it recorded (%.0f/s)",
				fail.min, rec.max)
		}
		cs = append(cs, check{
			target: fmt.Sprintf("save: recording the change history costs no saves per second beyond the noise of %d rounds, tenant per session, instant upstream, %s",
				len(row.recorded), sessionsText(row.conc)),
			result: fmt.Sprintf("%.0f/s recorded (%.0f–%.0f), %.0f/s with the history failing (%.0f–%.0f): %s; %s", rec.median, rec.min, rec.max,
				fail.median, fail.min, fail.max, lossText(loss, fail.median), verdict),
			ok: !beyond})
	}
	return cs
}

func lossText(loss, of float64) string {
	if of <= 0 {
		return fmt.Sprintf("loss %.0f/s", loss)
	}
	return fmt.Sprintf("loss %.0f/s (%.1f%%)", loss, 100*loss/of)
}

func (r *report) writeHistory(b *strings.Builder) {
	rows := r.historyRows()
	if len(rows) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\n### Cost of recording the change history on the save path\n\n")
	p("The same binary and data directory, started again for each variant with the load's session keys (the sessions stay signed in): "+
		"**recorded** is the default, the history in SQLite in `--data-dir` (WAL, a synchronous commit per save; here on %s); "+
		"**failing** is `--database-url %s`, a PostgreSQL that refuses connections: the app saves on, and every history call fails at once, "+
		"without I/O (it is logged and counted on `/metrics`, which the bench checks: every save's write failed). "+
		"Saves with a partner tenant per session (no conflicts), instant upstream, %s windows after %s of warm-up; "+
		"each round measures both variants, the first of them alternating. Figures are medians over the rounds (%s), with their ranges: "+
		"the noise. A loss is **beyond the noise** when the ranges are apart, every round with the history failing faster than every "+
		"round with it recorded (for three rounds each, 1 chance in 20 when recording costs nothing).\n\n",
		r.historyFilesystem(), historyDownURL, r.opts.historyWindow, r.opts.warmup, r.roundsText(len(rows[0].recorded)))
	p("| what | sessions | per second recorded (range) | per second failing (range) | loss | beyond the noise | app CPU per request recorded (range) | failing (range) | recording costs | of which in the kernel | p50 recorded, failing |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range rows {
		rec, fail := row.rates()
		crec, cfail := row.cpus()
		srec, sfail := row.systemCPUs()
		loss, beyond := row.loss()
		p50 := func(ss []historySample) float64 {
			return median(mapSlice(ss, func(s historySample) float64 { return float64(load.Percentile(s.res.Latencies, 50)) }))
		}
		p("| %s | %d | %.0f (%.0f–%.0f) | %.0f (%.0f–%.0f) | %s | %s | %.0f µs (%.0f–%.0f) | %.0f µs (%.0f–%.0f) | %+.0f µs | %+.0f µs | %s, %s |\n",
			row.op, row.conc, rec.median, rec.min, rec.max, fail.median, fail.min, fail.max, lossText(loss, fail.median), yesNo(beyond),
			crec.median, crec.min, crec.max, cfail.median, cfail.min, cfail.max, crec.median-cfail.median, srec.median-sfail.median,
			ms(time.Duration(p50(row.recorded))), ms(time.Duration(p50(row.failing))))
	}
	r.writeHistoryCalibration(b, rows)
}

// writeHistoryCalibration says what the failing path itself costs: on page views the recording
// app reaches no database (what it knows is cached), while the failing one makes the same two
// failed calls and two log lines as on a save.
func (r *report) writeHistoryCalibration(b *strings.Builder, rows []historyRow) {
	i := slices.IndexFunc(rows, func(row historyRow) bool { return row.op == opView })
	if i < 0 {
		return
	}
	crec, cfail := rows[i].cpus()
	path := cfail.median - crec.median
	fmt.Fprintf(b, "\nThe page-view row is the calibration: a page view with the history recorded reaches no database (what the app "+
		"knows is cached), while with it failing it makes the same failed calls as a save (the read's record and the line under "+
		"the form, each logged). ")
	rounds := fmt.Sprintf("rounds %.0f–%.0f µs recorded, %.0f–%.0f µs failing", crec.min, crec.max, cfail.min, cfail.max)
	if crec.max >= cfail.min && cfail.max >= crec.min { // the ranges overlap: the difference is noise
		fmt.Fprintf(b, "The failing path's cost is within the noise (medians %+.0f µs apart; %s), so the \"recording costs\" "+
			"column holds about all that recording costs a save.\n", path, rounds)
		return
	}
	fmt.Fprintf(b, "So the failing path costs about %+.0f µs of app CPU per request (%s), and recording costs a save about "+
		"that much more than the \"recording costs\" column says.\n", path, rounds)
}

func (r *report) historyFilesystem() string {
	for _, run := range r.runs {
		if run.history != nil {
			return run.history.filesystem
		}
	}
	return "an unknown file system"
}

func (r *report) roundsText(n int) string {
	if len(r.runs) == 1 {
		return fmt.Sprintf("%d rounds", n)
	}
	return fmt.Sprintf("%d rounds in all, %d in each of %d runs", n, r.opts.historyRounds, len(r.runs))
}

func yesNo(b bool) string {
	if b {
		return "**yes**"
	}
	return "no"
}
