package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pcsupport/cmd/bench/internal/proc"
)

// The anonymous flood (issue 13): what an outsider can send without signing in must not grow
// what the app keeps, nor its memory. cmd/web's tests check the same in-process with fewer
// requests; here the app is a process of its own, so its resident memory is its own.
const (
	floodWorkers      = 32       // concurrent connections of the outsider
	floodWarmupEach   = 10       // requests of each kind before /metrics is first read: each adds its series once
	floodFieldSize    = 10_000   // characters of each oversized form field
	floodNextSize     = 30 << 10 // bytes of the sign-in's return path
	floodMethodsEvery = 11       // one request in 11 has a made-up HTTP method
)

// floodResult is what one flood sent and what the app kept.
type floodResult struct {
	requests, madeUp          int                    // requests sent after the warm-up; of them, with made-up methods
	took                      time.Duration          // of those requests
	answers                   map[string]map[int]int // statuses answered, by kind of request
	serverErrors, noAnswer    int
	firstFailure              string
	dataBefore, dataAfter     int64 // bytes of files in the app's --data-dir: at start, after the flood
	metricsBefore, metricsAft int   // bytes of /metrics: after the warm-up, after the flood
	hwm                       int64 // VmHWM after the flood (Linux updates it lazily: it may miss a peak)
	sampledPeak               int64 // the most VmRSS seen, read every 10 ms during the flood
	cpuTicks                  int64 // the app's CPU time during the flood
}

// floodCount is how many anonymous requests the flood sends after its warm-up.
func (o options) floodCount() int { return pick(o.short, 5500, 1650) }

// floodPhase starts an app of its own (file sessions in a data directory of its own), sends it
// the warm-up and then the flood, and measures what it kept.
func (b *bench) floodPhase(ctx context.Context) (*floodResult, error) {
	n := b.opts.floodCount()
	b.logf("anonymous flood: %d requests, %d at a time", n, floodWorkers)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dataDir := b.scratch("flood")
	app, _, err := startApp(b.env.appBin, b.stack, appConfig{port: port, dataDir: dataDir}, b.opts.appEnv)
	if err != nil {
		return nil, err
	}
	defer app.stop()
	o := newOutsider(app.url)
	if err := o.takeCSRF(ctx); err != nil {
		return nil, err
	}
	r := &floodResult{}
	if r.dataBefore, err = dirBytes(dataDir); err != nil {
		return nil, err
	}
	o.send(ctx, floodWarmupEach*floodMethodsEvery, &floodResult{})
	if r.metricsBefore, err = metricsSize(ctx, app.url); err != nil {
		return nil, err
	}
	cpu0, _ := proc.CPUTicks(app.PID())
	stopSampling := sampleRSS(app.PID(), &r.sampledPeak)
	start := time.Now()
	o.send(ctx, n, r)
	r.took = time.Since(start)
	stopSampling()
	cpu1, _ := proc.CPUTicks(app.PID())
	r.cpuTicks = cpu1 - cpu0
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mem, err := proc.ReadMemory(app.PID())
	if err != nil {
		return nil, fmt.Errorf("the app's memory: %w", err)
	}
	r.hwm = mem.Peak
	if r.metricsAft, err = metricsSize(ctx, app.url); err != nil {
		return nil, err
	}
	if r.dataAfter, err = dirBytes(dataDir); err != nil {
		return nil, err
	}
	b.logf("anonymous flood: %d requests in %s, answers %v; data dir %+d B, /metrics %+d B, peak RSS %s",
		r.requests, r.took.Round(time.Millisecond), r.answers, r.dataAfter-r.dataBefore, r.metricsAft-r.metricsBefore, mb(r.peak()))
	if n := r.answers[kindSave][http.StatusForbidden]; n > 0 {
		return nil, fmt.Errorf("%d oversized form posts were refused with 403: the CSRF token was not accepted, so their fields were never read", n)
	}
	return r, nil
}

// peak is the most the app was resident, as far as Linux and the samples saw.
func (r *floodResult) peak() int64 { return max(r.hwm, r.sampledPeak) }

// outsider is a visitor who never signs in: no cookie jar, redirects not followed, and the CSRF
// cookie and token any page hands out.
type outsider struct {
	appURL string
	client *http.Client
	csrf   *http.Cookie
}

func newOutsider(appURL string) *outsider {
	return &outsider{appURL: appURL, client: &http.Client{Transport: newTransport(floodWorkers), Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// takeCSRF gets the CSRF cookie (and so the token: it is the cookie's value) from a page.
func (o *outsider) takeCSRF(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.appURL+"auth/signed-out", nil)
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("the signed-out page: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "pcs_csrf" {
			o.csrf = &http.Cookie{Name: c.Name, Value: c.Value}
			return nil
		}
	}
	return errors.New("the signed-out page set no pcs_csrf cookie")
}

// Kinds of request of the flood.
const (
	kindSignIn = "sign-in start"
	kindPage   = "page"
	kindSave   = "oversized save"
	kindMethod = "made-up method"
)

// request is the i-th request of a flood: a made-up method every floodMethodsEvery, else in
// turn a sign-in start with a huge return path, the page, and a form post with huge fields.
func (o *outsider) request(ctx context.Context, i int) (string, *http.Request) {
	if i%floodMethodsEvery == floodMethodsEvery-1 {
		req, _ := http.NewRequestWithContext(ctx, fmt.Sprintf("X%05d", i), o.appURL+"save", nil)
		return kindMethod, req
	}
	switch i % 3 {
	case 0:
		next := "/" + strings.Repeat("a", floodNextSize)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.appURL+"auth/signin?next="+url.QueryEscape(next), nil)
		return kindSignIn, req
	case 1:
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.appURL, nil)
		return kindPage, req
	}
	huge := strings.Repeat("x", floodFieldSize)
	form := url.Values{"email": {huge}, "telephone": {huge}, "website": {huge}, "_csrf": {o.csrf.Value}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.appURL+"save", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(o.csrf)
	return kindSave, req
}

// send sends n requests, floodWorkers at a time, and counts the answers into r.
func (o *outsider) send(ctx context.Context, n int, r *floodResult) {
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	for range floodWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				kind, req := o.request(ctx, i)
				status, err := o.do(req)
				mu.Lock()
				r.count(kind, req, status, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func (o *outsider) do(req *http.Request) (int, error) {
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

func (r *floodResult) count(kind string, req *http.Request, status int, err error) {
	r.requests++
	if kind == kindMethod {
		r.madeUp++
	}
	what := ""
	switch {
	case err != nil:
		r.noAnswer++
		what = err.Error()
	case status >= 500:
		r.serverErrors++
		what = fmt.Sprintf("answered %d", status)
	default:
		if r.answers == nil {
			r.answers = map[string]map[int]int{}
		}
		if r.answers[kind] == nil {
			r.answers[kind] = map[int]int{}
		}
		r.answers[kind][status]++
	}
	if what != "" && r.firstFailure == "" {
		r.firstFailure = fmt.Sprintf("%s %s: %s", req.Method, req.URL.Path, what)
	}
}

// sampleRSS reads the process's resident memory every 10 ms into peak until the returned
// function is called.
func sampleRSS(pid int, peak *int64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := proc.ReadMemory(pid); err == nil {
				*peak = max(*peak, m.RSS)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// metricsSize is the length of the app's /metrics as a scraper reads it.
func metricsSize(ctx context.Context, appURL string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, appURL+"metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("/metrics: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	if err != nil {
		return 0, fmt.Errorf("/metrics: %w", err)
	}
	return len(b), nil
}

// dirBytes is the size of every file under dir.
func dirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		switch {
		case errors.Is(err, fs.ErrNotExist): // removed since it was listed
			return nil
		case err == nil:
			total += info.Size()
		}
		return err
	})
	return total, err
}
