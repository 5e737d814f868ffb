package main

import (
	"strings"
	"testing"
	"time"

	"pcsupport/cmd/bench/internal/load"
)

// downloadsWindow is a one-second window of saves at 4 sessions, every save saved, each taking p99.
func downloadsWindow(variant string, perSecond int, p99 time.Duration) downloadsSample {
	lat := make([]time.Duration, perSecond)
	for i := range lat {
		lat[i] = p99
	}
	return downloadsSample{variant: variant, conc: 4, taken: []int64{1000, 2000},
		res: load.Result{Requests: perSecond, Completed: perSecond, Window: time.Second, Latencies: lat, Outcomes: map[int]int{outcomeSaved: perSecond}}}
}

// Downloads held open cost saves beyond the noise when every held round was worse than every
// quiet one, in saves per second or in p99; overlapping ranges are no measurable cost.
func TestDownloadsCostIsJudgedAgainstTheSpreadOfTheRounds(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name              string
		quiet, held       []int
		quietP99, heldP99 []time.Duration
		ok                bool
		says              string
	}{
		{"overlap", []int{900, 1000, 950}, []int{1000, 980, 920}, []time.Duration{20 * ms, 22 * ms, 25 * ms}, []time.Duration{21 * ms, 30 * ms, 24 * ms}, true, "overlap"},
		{"fewer saves", []int{1000, 980, 1020}, []int{700, 720, 710}, []time.Duration{20 * ms, 22 * ms, 25 * ms}, []time.Duration{21 * ms, 23 * ms, 24 * ms}, false, "fewer saves per second"},
		{"saves that stall", []int{1000, 980, 1020}, []int{990, 1000, 1010}, []time.Duration{20 * ms, 22 * ms, 25 * ms}, []time.Duration{5000 * ms, 4000 * ms, 30 * ms}, false, "slower p99"},
	} {
		r := &report{opts: options{levels: []int{4}}, runs: []*runResult{{downloads: &downloadsResult{}}}}
		for i := range c.quiet {
			r.runs[0].downloads.samples = append(r.runs[0].downloads.samples,
				downloadsWindow(downloadsQuiet, c.quiet[i], c.quietP99[i]), downloadsWindow(downloadsHeld, c.held[i], c.heldP99[i]))
		}
		cs := r.downloadsChecks()
		if len(cs) != 1 || cs[0].ok != c.ok || !strings.Contains(cs[0].result, c.says) {
			t.Errorf("%s: %+v; want met %v, saying %q", c.name, cs, c.ok, c.says)
		}
		var b strings.Builder
		r.writeDownloads(&b)
		if !strings.Contains(b.String(), "| 4 held open |") {
			t.Errorf("%s: the report has no row of the held downloads:\n%s", c.name, b.String())
		}
	}
}

// The comparison only counts when each window did what it claims: every save saved.
func TestDownloadsWindowsWithFailedSavesAreRefused(t *testing.T) {
	w := downloadsWindow(downloadsHeld, 100, time.Millisecond)
	if err := w.valid(); err != nil {
		t.Errorf("a good window: %v", err)
	}
	w.res.Outcomes = map[int]int{outcomeSaved: 90, outcomeConflict: 10}
	if err := w.valid(); err == nil || !strings.Contains(err.Error(), "90 of 100 saves saved") {
		t.Errorf("a window with conflicts: %v", err)
	}
	w.res.Errors, w.res.ErrorMsgs = 3, []string{"save: context deadline exceeded"}
	if err := w.valid(); err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("a window with failed saves: %v", err)
	}
}
