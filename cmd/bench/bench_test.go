package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"

	"pcsupport/cmd/bench/internal/load"
)

// The numbers the bench types must pass the app's and the emulator's validation: numbers that
// can be dialled (libphonenumber, as the app checks them) of 4 to 15 digits, at most 32
// characters, and each one different from the last.
func TestTelephoneIsValidAndChanges(t *testing.T) {
	prev := ""
	for _, n := range []int{0, 1, 9999, 10000, 123456, 39999999, 40000001, 99999999} {
		tel := telephone(n)
		digits := 0
		for _, r := range tel {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		parsed, err := phonenumbers.Parse(tel, phonenumbers.UNKNOWN_REGION)
		if digits < 4 || digits > 15 || len(tel) > 32 || tel == prev || err != nil || !phonenumbers.IsValidNumber(parsed) {
			t.Errorf("telephone(%d) = %q", n, tel)
		}
		prev = tel
	}
}

// The bench measures the binary that ships: it builds with scripts/build-binary's command.
func TestBuildsAsTheScript(t *testing.T) {
	script, err := os.ReadFile("../../scripts/build-binary")
	if err != nil {
		t.Fatal(err)
	}
	want := buildLine(productionTags) + " -o bin/web ./cmd/web"
	if !strings.Contains(string(script), "\n"+want+"\n") {
		t.Errorf("scripts/build-binary does not run %q:\n%s", want, script)
	}
}

func TestMedianAndNearestLevel(t *testing.T) {
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median of 3,1,2 = %d", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of 4,1,3,2 = %v", got)
	}
	for _, c := range []struct {
		levels    []int
		want, got int
	}{
		{[]int{1, 50, 200}, 50, 50}, {[]int{1, 4, 16}, 50, 16}, {[]int{1, 4, 16}, 1, 1}, {[]int{40, 60}, 50, 40},
	} {
		if n := nearestLevel(c.levels, c.want); n != c.got {
			t.Errorf("nearestLevel(%v, %d) = %d, want %d", c.levels, c.want, n, c.got)
		}
	}
}

// viewRun is a run whose 50-session page views cost the proxy 100 µs and the app appCPU each.
func viewRun(appCPU time.Duration) *runResult {
	const requests = 5000
	ticks := func(per time.Duration) int64 { return int64(per * requests / (10 * time.Millisecond)) }
	side := func(per time.Duration) side {
		return side{Result: load.Result{Requests: requests, Completed: requests, Window: time.Second}, cpuTicks: ticks(per)}
	}
	return &runResult{scenarios: []scenario{{op: opView, conc: 50, proxy: side(100 * time.Microsecond), app: side(appCPU)}}}
}

// The CPU target is checked on the median of the runs: one slow run does not miss it, two do.
func TestCPUTargetOnTheMedianOfRuns(t *testing.T) {
	o := options{levels: []int{50}, ops: map[string]bool{"view": true}}
	for _, c := range []struct {
		apps []time.Duration
		ok   bool
	}{
		{[]time.Duration{200 * time.Microsecond, 400 * time.Microsecond, 210 * time.Microsecond}, true},
		{[]time.Duration{400 * time.Microsecond, 400 * time.Microsecond, 200 * time.Microsecond}, false},
	} {
		r := &report{opts: o}
		for _, a := range c.apps {
			r.runs = append(r.runs, viewRun(a))
		}
		var found bool
		for _, ch := range r.performanceChecks() {
			if strings.Contains(ch.target, "app CPU") {
				found = true
				if ch.ok != c.ok {
					t.Errorf("app CPU %v per view against the proxy's 100 µs: %q, met %v; want %v", c.apps, ch.result, ch.ok, c.ok)
				}
			}
		}
		if !found {
			t.Errorf("no CPU target among %+v", r.performanceChecks())
		}
	}
}
