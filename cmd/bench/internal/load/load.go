// Package load drives a closed loop of requests: workers that each send their next request as
// soon as the previous one is answered, through a warm-up and then a measurement window.
package load

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Spec bounds one run: Workers in parallel for Warmup+Measure, at most MaxRequests in all.
type Spec struct {
	Workers     int
	Warmup      time.Duration
	Measure     time.Duration
	MaxRequests int64
	Drain       time.Duration // how long requests under way at the end may still take
}

// Do sends one request for worker w and says what it came to (an outcome the caller numbers).
type Do func(ctx context.Context, w int) (outcome int, err error)

// Result is what one run measured.
type Result struct {
	Requests  int             // every request sent, warm-up included (what counters around the run saw)
	Completed int             // requests that ended inside the measurement window
	Window    time.Duration   // the measurement window
	Latencies []time.Duration // of requests started inside the window, sorted
	Outcomes  map[int]int
	Errors    int
	ErrorMsgs []string // the first few
	Cut       bool     // the drain limit cancelled requests: counts around the run may be off by those
}

// Throughput is the requests per second completed inside the window.
func (r Result) Throughput() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Window.Seconds()
}

// Percentile is the nearest-rank percentile p (0-100) of sorted latencies.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func (r Result) String() string {
	return fmt.Sprintf("%d requests, %.0f/s, p50 %s, p99 %s, %d errors", r.Requests, r.Throughput(),
		Percentile(r.Latencies, 50), Percentile(r.Latencies, 99), r.Errors)
}

// window is when latencies and completions count.
type window struct{ from, to time.Time }

// Run drives do from spec.Workers workers until the window ends or MaxRequests were sent.
func Run(ctx context.Context, spec Spec, do Do) Result {
	start := time.Now()
	win := window{from: start.Add(spec.Warmup)}
	win.to = win.from.Add(spec.Measure)
	reqCtx, cancel := context.WithDeadline(ctx, win.to.Add(spec.Drain))
	defer cancel()

	var sent atomic.Int64
	workers := make([]worker, spec.Workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { workers[i].loop(reqCtx, i, win, &sent, spec.MaxRequests, do) })
	}
	wg.Wait()

	r := merge(workers)
	r.Window = spec.Measure
	r.Cut = reqCtx.Err() != nil && time.Now().After(win.to.Add(spec.Drain))
	// When the count limit ended the run early, the window is what was actually used.
	if end := time.Now(); end.Before(win.to) {
		r.Window = max(end.Sub(win.from), time.Millisecond)
	}
	return r
}

// worker is what one worker saw.
type worker struct {
	latencies []time.Duration
	completed int
	outcomes  map[int]int
	errors    int
	msgs      []string
}

func (w *worker) loop(ctx context.Context, id int, win window, sent *atomic.Int64, maxRequests int64, do Do) {
	w.outcomes = map[int]int{}
	for {
		t0 := time.Now()
		if !t0.Before(win.to) || ctx.Err() != nil || sent.Add(1) > maxRequests {
			return
		}
		out, err := do(ctx, id)
		t1 := time.Now()
		if err != nil {
			w.errors++
			if len(w.msgs) < 3 {
				w.msgs = append(w.msgs, err.Error())
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(time.Millisecond) // a failing target must not become a busy loop
			continue
		}
		w.outcomes[out]++
		if !t0.Before(win.from) {
			w.latencies = append(w.latencies, t1.Sub(t0))
		}
		if !t1.Before(win.from) && !t1.After(win.to) {
			w.completed++
		}
	}
}

func merge(workers []worker) Result {
	r := Result{Outcomes: map[int]int{}}
	for _, w := range workers {
		r.Latencies = append(r.Latencies, w.latencies...)
		r.Completed += w.completed
		r.Errors += w.errors
		r.Requests += w.errors
		for out, n := range w.outcomes {
			r.Outcomes[out] += n
			r.Requests += n
		}
		r.ErrorMsgs = append(r.ErrorMsgs, w.msgs...)
	}
	r.ErrorMsgs = r.ErrorMsgs[:min(len(r.ErrorMsgs), 5)]
	slices.Sort(r.Latencies)
	return r
}
