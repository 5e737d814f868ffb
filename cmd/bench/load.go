package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec bounds one closed-loop run: conc workers, each sending its next request as soon as
// the previous one is answered, for warmup+measure, at most maxRequests in all.
type loadSpec struct {
	conc        int
	warmup      time.Duration
	measure     time.Duration
	maxRequests int64
	drain       time.Duration // how long requests under way at the end may still take
}

// loadResult is what one run measured.
type loadResult struct {
	requests  int           // every request sent, warm-up included (what the upstream counters saw)
	completed int           // requests that ended inside the measurement window
	window    time.Duration // the measurement window
	latencies []time.Duration
	outcomes  [numOutcomes]int
	errors    int
	errorMsgs []string
	cut       bool // the drain limit cancelled requests: upstream counts may be off by those
}

func (r loadResult) throughput() float64 {
	if r.window <= 0 {
		return 0
	}
	return float64(r.completed) / r.window.Seconds()
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// runLoad drives do from spec.conc workers; do gets the worker's index.
func runLoad(ctx context.Context, spec loadSpec, do func(ctx context.Context, worker int) (saveOutcome, error)) loadResult {
	start := time.Now()
	measureFrom := start.Add(spec.warmup)
	stopAt := measureFrom.Add(spec.measure)
	reqCtx, cancel := context.WithDeadline(ctx, stopAt.Add(spec.drain))
	defer cancel()

	var sent atomic.Int64
	type workerResult struct {
		lat       []time.Duration
		completed int
		outcomes  [numOutcomes]int
		errors    int
		msgs      []string
	}
	results := make([]workerResult, spec.conc)
	var wg sync.WaitGroup
	for w := range spec.conc {
		wg.Go(func() {
			res := &results[w]
			for {
				t0 := time.Now()
				if !t0.Before(stopAt) || reqCtx.Err() != nil || sent.Add(1) > spec.maxRequests {
					return
				}
				out, err := do(reqCtx, w)
				t1 := time.Now()
				if err != nil {
					res.errors++
					if len(res.msgs) < 3 {
						res.msgs = append(res.msgs, err.Error())
					}
					if reqCtx.Err() != nil {
						return
					}
					time.Sleep(time.Millisecond) // a failing target must not become a busy loop
					continue
				}
				res.outcomes[out]++
				if !t0.Before(measureFrom) {
					res.lat = append(res.lat, t1.Sub(t0))
				}
				if !t1.Before(measureFrom) && !t1.After(stopAt) {
					res.completed++
				}
			}
		})
	}
	wg.Wait()

	r := loadResult{window: spec.measure}
	for _, w := range results {
		r.latencies = append(r.latencies, w.lat...)
		r.completed += w.completed
		r.errors += w.errors
		for i, n := range w.outcomes {
			r.outcomes[i] += n
			r.requests += n
		}
		r.requests += w.errors
		r.errorMsgs = append(r.errorMsgs, w.msgs...)
	}
	if len(r.errorMsgs) > 5 {
		r.errorMsgs = r.errorMsgs[:5]
	}
	r.cut = reqCtx.Err() != nil && time.Now().After(stopAt.Add(spec.drain))
	// When the count limit ended the run early, the window is what was actually used.
	if end := time.Now(); end.Before(stopAt) {
		r.window = max(end.Sub(measureFrom), time.Millisecond)
	}
	slices.Sort(r.latencies)
	return r
}

func (r loadResult) String() string {
	return fmt.Sprintf("%d requests, %.0f/s, p50 %s, p99 %s, %d errors", r.requests, r.throughput(),
		percentile(r.latencies, 50), percentile(r.latencies, 99), r.errors)
}
