package probes

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// /readyz fails only on the checks that count; an informational one is shown and logged.
func TestReadyz(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("down") }
	tests := []struct {
		name   string
		checks []Check
		status int
		lines  []string
	}{
		{"all fine", []Check{{Name: "a", Check: ok}, {Name: "b", Check: ok, Informational: true}}, 200, []string{"a: ok", "b: ok"}},
		{"one that counts fails", []Check{{Name: "a", Check: down}, {Name: "b", Check: ok}}, 503, []string{"a: not ready", "b: ok"}},
		{"an informational one fails", []Check{{Name: "a", Check: ok}, {Name: "history", Check: down, Informational: true}}, 200,
			[]string{"a: ok", "history: failing"}},
	}
	for _, tt := range tests {
		e := echo.New()
		e.GET("/readyz", Readyz(tt.checks, slog.New(slog.DiscardHandler)))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.status)
		}
		for _, l := range tt.lines {
			if !strings.Contains(rec.Body.String(), l) {
				t.Errorf("%s: no line %q in\n%s", tt.name, l, rec.Body.String())
			}
		}
	}
}

// serveReadyz asks /readyz with ctx, and returns the answer and what was logged.
func serveReadyz(ctx context.Context, checks []Check) (*httptest.ResponseRecorder, string) {
	var logs bytes.Buffer
	e := echo.New()
	e.GET("/readyz", Readyz(checks, slog.New(slog.NewTextHandler(&logs, nil))))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil).WithContext(ctx))
	return rec, logs.String()
}

// Why a check fails goes to the log, for the operator, and never into the answer, which anyone
// who can reach /readyz reads; no cache keeps an old answer.
func TestReadyzReasonsGoToTheLogOnly(t *testing.T) {
	reason := errors.New(`dial tcp 10.0.0.7:6379: AUTH failed for "app:hunter2"`)
	rec, logs := serveReadyz(t.Context(), []Check{{Name: "session store", Check: func(context.Context) error { return reason }}})
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "10.0.0.7") {
		t.Errorf("%d %q: want 503 without the reason", rec.Code, rec.Body.String())
	}
	if !strings.Contains(logs, "not ready") || !strings.Contains(logs, "session store") || !strings.Contains(logs, "AUTH failed") {
		t.Errorf("the log says %q, want the check and its reason", logs)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// The checks run at once, so one slow check does not add its time to the others', and one
// that does not answer makes the app unready instead of holding the probe.
func TestReadyzChecksRunTogether(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // a failure ends here, not in a hang
	defer cancel()
	var arrived sync.WaitGroup
	arrived.Add(2)
	meet := func(ctx context.Context) error { // answers only once both checks are asked
		arrived.Done()
		done := make(chan struct{})
		go func() { arrived.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	rec, _ := serveReadyz(ctx, []Check{{Name: "a", Check: meet}, {Name: "b", Check: meet}})
	if rec.Code != http.StatusOK {
		t.Errorf("two checks that each wait for the other: %d\n%s", rec.Code, rec.Body.String())
	}

	hung, stop := context.WithCancel(t.Context())
	stop() // the probe's deadline has passed
	rec, _ = serveReadyz(hung, []Check{{Name: "history store", Check: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}})
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "history store: not ready") {
		t.Errorf("a check that does not answer: %d %q", rec.Code, rec.Body.String())
	}
}

// /healthz says the process is alive, uncached.
func TestHealthz(t *testing.T) {
	e := echo.New()
	e.GET("/healthz", Healthz)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%d %q, Cache-Control %q", rec.Code, rec.Body.String(), rec.Header().Get("Cache-Control"))
	}
}

// `web healthcheck` passes on a 200 and says so; it fails on any other answer, on no answer, and
// on an app that hangs, instead of hanging the container's health check.
func TestHealthcheck(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	release := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer app.Close()
	defer close(release)

	var out bytes.Buffer
	if err := Healthcheck(t.Context(), app.URL+"/healthz", &out); err != nil || out.String() != "healthy: "+app.URL+"/healthz\n" {
		t.Errorf("a healthy app: %v, printed %q", err, out.String())
	}
	status.Store(http.StatusServiceUnavailable)
	out.Reset()
	if err := Healthcheck(t.Context(), app.URL+"/healthz", &out); err == nil || !strings.Contains(err.Error(), "503") || out.Len() != 0 {
		t.Errorf("an app answering 503: %v, printed %q", err, out.String())
	}

	stopped := httptest.NewServer(http.NotFoundHandler())
	stopped.Close()
	if err := Healthcheck(t.Context(), stopped.URL+"/healthz", &out); err == nil {
		t.Error("no app listening: no error")
	}
	if err := Healthcheck(t.Context(), "http://[::1", &out); err == nil {
		t.Error("a malformed URL: no error")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := Healthcheck(ctx, app.URL+"/hang", &out); err == nil {
		t.Error("an app that never answers: no error")
	}
}
