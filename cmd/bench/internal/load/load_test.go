package load

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 1: time.Millisecond} {
		if got := Percentile(ds, p); got != want {
			t.Errorf("p%v = %s, want %s", p, got, want)
		}
	}
	if got := Percentile(nil, 99); got != 0 {
		t.Errorf("p99 of nothing = %s", got)
	}
}

func TestRunIsBoundedAndCounts(t *testing.T) {
	var calls atomic.Int64
	spec := Spec{Workers: 4, Warmup: 20 * time.Millisecond, Measure: 50 * time.Millisecond, MaxRequests: 1000, Drain: time.Second}
	start := time.Now()
	res := Run(context.Background(), spec, func(ctx context.Context, w int) (int, error) {
		n := calls.Add(1)
		time.Sleep(time.Millisecond)
		if n%10 == 0 {
			return 0, errors.New("every tenth fails")
		}
		return 1, nil
	})
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s", took)
	}
	if int64(res.Requests) != calls.Load() || res.Requests > 1000 {
		t.Errorf("requests %d, calls %d", res.Requests, calls.Load())
	}
	if res.Errors == 0 || res.Outcomes[1]+res.Errors != res.Requests {
		t.Errorf("outcomes %v, errors %d, requests %d", res.Outcomes, res.Errors, res.Requests)
	}
	if res.Completed == 0 || len(res.Latencies) == 0 {
		t.Errorf("nothing measured: %+v", res)
	}

	spec.MaxRequests = 7
	res = Run(context.Background(), spec, func(context.Context, int) (int, error) { return 0, nil })
	if res.Requests != 7 {
		t.Errorf("with a limit of 7: %d requests", res.Requests)
	}
}
