package main

import (
	"fmt"
	"strings"
	"time"
)

// downloadsRow is the save-exports comparison: the windows of every round of every run.
type downloadsRow struct {
	conc        int
	quiet, held []downloadsSample
}

func (r *report) downloadsRow() (downloadsRow, bool) {
	var row downloadsRow
	for _, run := range r.runs {
		if run.downloads == nil {
			continue
		}
		for _, s := range run.downloads.samples {
			row.conc = s.conc
			if s.variant == downloadsHeld {
				row.held = append(row.held, s)
			} else {
				row.quiet = append(row.quiet, s)
			}
		}
	}
	return row, len(row.quiet) > 0 && len(row.held) > 0
}

func (row downloadsRow) rates() (quiet, held spread) {
	return spreadOf(row.quiet, downloadsSample.rate), spreadOf(row.held, downloadsSample.rate)
}

// latencies are a percentile of a save's time, in milliseconds.
func (row downloadsRow) latencies(p float64) (quiet, held spread) {
	f := func(s downloadsSample) float64 { return s.percentile(p) / float64(time.Millisecond) }
	return spreadOf(row.quiet, f), spreadOf(row.held, f)
}

// worse says whether the held downloads cost saves beyond the noise of the rounds: every held
// round had fewer saves per second than every quiet one, or a slower p99 (the ranges apart, as
// in the save-history comparison: 1 chance in 20 for three rounds each when they cost nothing).
func (row downloadsRow) worse() (fewer, slower bool) {
	rq, rh := row.rates()
	pq, ph := row.latencies(99)
	return rq.min > rh.max, ph.min > pq.max
}

// cpus are the app's CPU per save in microseconds, the downloads' work included.
func (row downloadsRow) cpus() (quiet, held spread) {
	f := func(s downloadsSample) float64 { return float64(s.cpuPerSave()) / float64(time.Microsecond) }
	return spreadOf(row.quiet, f), spreadOf(row.held, f)
}

func (r *report) downloadsChecks() []check {
	row, ok := r.downloadsRow()
	if !ok {
		return nil
	}
	rq, rh := row.rates()
	pq, ph := row.latencies(99)
	fewer, slower := row.worse()
	verdict := "the rounds' ranges overlap"
	switch {
	case fewer && slower:
		verdict = "beyond the noise: fewer saves per second and a slower p99 in every round with the downloads held"
	case fewer:
		verdict = "beyond the noise: fewer saves per second in every round with the downloads held"
	case slower:
		verdict = "beyond the noise: a slower p99 in every round with the downloads held"
	}
	return []check{{
		target: fmt.Sprintf("save: %d downloads of a long history held open by slow readers cost no saves per second and no p99 beyond the noise "+
			"of %d rounds, tenant per session, instant upstream, %s", heldDownloads, len(row.held), sessionsText(row.conc)),
		result: fmt.Sprintf("%.0f/s quiet (%.0f–%.0f), %.0f/s held (%.0f–%.0f); p99 %.1f ms quiet (%.1f–%.1f), %.1f ms held (%.1f–%.1f): %s",
			rq.median, rq.min, rq.max, rh.median, rh.min, rh.max, pq.median, pq.min, pq.max, ph.median, ph.min, ph.max, verdict),
		ok: !fewer && !slower,
	}}
}

func (r *report) writeDownloads(b *strings.Builder) {
	row, ok := r.downloadsRow()
	if !ok {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\n### Saves while downloads of the history are held open by slow readers\n\n")
	p("The dev partner's history holds %d entries with long values (about 8.8 MB of CSV); %d of its people each download it "+
		"(`history.csv`, without gzip, through a %d KB receive buffer) and read %d KB every %s, from %s before each **held** "+
		"window's warm-up to its end, while "+
		"%s with a partner tenant each save (instant upstream, %s windows after %s of warm-up); **quiet** windows have no "+
		"download. The same app, SQLite in `--data-dir`; each round measures both, the first of them alternating. Figures are "+
		"medians over the rounds (%s), with their ranges: the noise.\n\n",
		downloadedEntries, heldDownloads, slowReadBuffer>>10, slowReadChunk>>10, slowReadEvery, downloadsSettle, sessionsText(row.conc), r.opts.historyWindow, r.opts.warmup,
		r.roundsText(len(row.held)))
	p("| downloads | saves per second (range) | p50 (range) | p99 (range) | app CPU per save (range) | downloaded by each reader in a window |\n" +
		"|---|---|---|---|---|---|\n")
	rq, rh := row.rates()
	p50q, p50h := row.latencies(50)
	p99q, p99h := row.latencies(99)
	cq, ch := row.cpus()
	p("| none | %.0f (%.0f–%.0f) | %.2f ms (%.2f–%.2f) | %.2f ms (%.2f–%.2f) | %.0f µs (%.0f–%.0f) | |\n", rq.median, rq.min, rq.max,
		p50q.median, p50q.min, p50q.max, p99q.median, p99q.min, p99q.max, cq.median, cq.min, cq.max)
	taken := spreadOf(row.held, func(s downloadsSample) float64 { return float64(median(s.taken)) })
	p("| %d held open | %.0f (%.0f–%.0f) | %.2f ms (%.2f–%.2f) | %.2f ms (%.2f–%.2f) | %.0f µs (%.0f–%.0f) | %s (median; %s–%s) |\n", heldDownloads,
		rh.median, rh.min, rh.max, p50h.median, p50h.min, p50h.max, p99h.median, p99h.min, p99h.max, ch.median, ch.min, ch.max,
		kb(int(taken.median)), kb(int(taken.min)), kb(int(taken.max)))
}
