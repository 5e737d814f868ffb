package main

import (
	"strings"
	"testing"
	"time"

	"pcsupport/cmd/bench/internal/load"
)

// saveWindow is a one-second window of saves at 4 sessions through one variant, every save saved.
func saveWindow(variant string, perSecond int) historySample {
	return historySample{variant: variant, op: opSaveOwn, conc: 4,
		res: load.Result{Requests: perSecond, Completed: perSecond, Window: time.Second, Outcomes: map[int]int{outcomeSaved: perSecond}}}
}

func historyReport(recorded, failing []int) *report {
	h := &historyResult{}
	for i := range recorded {
		h.samples = append(h.samples, saveWindow(historyRecorded, recorded[i]), saveWindow(historyFailing, failing[i]))
	}
	return &report{opts: options{levels: []int{4}}, runs: []*runResult{{history: h}}}
}

// A loss is beyond the noise when every round with the history failing beat every round with it
// recorded; ranges that overlap are no measurable loss, however far the medians.
func TestHistoryLossIsJudgedAgainstTheSpreadOfTheRounds(t *testing.T) {
	for _, c := range []struct {
		recorded, failing []int
		ok                bool
	}{
		{[]int{900, 1000, 950}, []int{1000, 980, 1020}, true},  // overlap at 1000
		{[]int{700, 720, 710}, []int{1000, 980, 1020}, false},  // apart
		{[]int{400, 736, 555}, []int{1213, 2205, 1324}, false}, // apart, although one round stretches a range
		{[]int{1010, 1000}, []int{1000, 1010}, true},           // no loss
		{[]int{500, 1100, 520}, []int{1000, 1020, 990}, true},  // one fast round: not measurable
	} {
		cs := historyReport(c.recorded, c.failing).historyChecks()
		if len(cs) != 1 {
			t.Fatalf("%d checks, want 1: %+v", len(cs), cs)
		}
		if cs[0].ok != c.ok {
			t.Errorf("recorded %v/s against failing %v/s: %s, met %v; want %v", c.recorded, c.failing, cs[0].result, cs[0].ok, c.ok)
		}
	}
}

// The comparison only counts when each variant did what it claims.
func TestHistoryWindowsThatMeasureSomethingElseAreRefused(t *testing.T) {
	good := []historySample{saveWindow(historyRecorded, 500), saveWindow(historyFailing, 500)}
	good[1].failedSaves = 500
	for _, s := range good {
		if err := s.valid(); err != nil {
			t.Errorf("%s: %v", s.variant, err)
		}
	}
	recordingFailed := good[0]
	recordingFailed.failedSaves = 3
	notFailing := good[1]
	notFailing.failedSaves = 499
	conflicts := good[0]
	conflicts.res.Outcomes = map[int]int{outcomeSaved: 400, outcomeConflict: 100}
	for want, s := range map[string]historySample{"recording app failed": recordingFailed, "does not fail every one": notFailing,
		"400 of 500 saves saved": conflicts} {
		if err := s.valid(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("valid() = %v, want %q", err, want)
		}
	}
}

// The calibration says what the failing baseline costs of itself, and calls a difference the
// rounds' noise covers what it is rather than a cost (a full run once printed "costs -12 µs").
func TestHistoryCalibrationNamesNoiseAsNoise(t *testing.T) {
	views := func(variant string, ticks ...int64) []historySample { // 1000 views a window: a tick is 10 µs a view
		var out []historySample
		for _, n := range ticks {
			out = append(out, historySample{variant: variant, op: opView, conc: 50, cpuTicks: n,
				res: load.Result{Requests: 1000, Completed: 1000, Window: time.Second}})
		}
		return out
	}
	for _, c := range []struct {
		recorded, failing []int64
		want              string
	}{
		{[]int64{22, 23, 24}, []int64{21, 22, 25}, "within the noise (medians -10 µs apart"},
		{[]int64{20, 20, 21}, []int64{25, 26, 27}, "the failing path costs about +60 µs"},
	} {
		var b strings.Builder
		row := historyRow{op: opView, conc: 50, recorded: views(historyRecorded, c.recorded...), failing: views(historyFailing, c.failing...)}
		new(report).writeHistoryCalibration(&b, []historyRow{row})
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("recorded %v, failing %v ticks:\n%s\nwant %q", c.recorded, c.failing, b.String(), c.want)
		}
	}
}
