package pcclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"pcsupport/internal/support"
)

func Test429ShortWaitRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		body   string
		wait   time.Duration
	}{
		{"header", "2", `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 2 seconds."}`, 2 * time.Second},
		{"message", "", `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 1 seconds."}`, time.Second},
		{"zero", "0", ``, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					if tc.header != "" {
						w.Header().Set("Retry-After", tc.header)
					}
					writeJSON(w, 429, tc.body)
					return
				}
				writeJSON(w, 200, sampleProfile)
			})
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = 10 * time.Second })
			if _, err := c.GetSupportProfile(context.Background(), opts()); err != nil {
				t.Fatal(err)
			}
			if rec.count() != 2 {
				t.Errorf("server saw %d requests, want 2", rec.count())
			}
			if got := c.waits.all(); !equalDurations(got, []time.Duration{tc.wait}) {
				t.Errorf("waits = %v, want [%v]", got, tc.wait)
			}
		})
	}
}

func Test429NotWaited(t *testing.T) {
	for _, tc := range []struct {
		name       string
		header     string
		mod        func(*Config)
		requests   int
		retryAfter time.Duration
	}{
		{"longer than MaxRetryAfterWait", "60", nil, 1, time.Minute},
		{"beyond the call deadline", "2", func(c *Config) { c.Timeout = 500 * time.Millisecond }, 1, 2 * time.Second},
		{"waiting disabled", "1", func(c *Config) { c.MaxRetryAfterWait = -1 }, 1, time.Second},
		{"attempts used up", "1", func(c *Config) { c.MaxAttempts = 2; c.Timeout = 10 * time.Second }, 2, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tc.header)
				writeJSON(w, 429, `{"statusCode":429,"message":"Rate limit is exceeded."}`)
			})
			c := newTestClient(t, srv.URL, tc.mod)
			_, err := c.GetSupportProfile(context.Background(), opts())
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindThrottled || e.RetryAfter != tc.retryAfter {
				t.Fatalf("err = %v, want throttled with RetryAfter %v", err, tc.retryAfter)
			}
			if rec.count() != tc.requests {
				t.Errorf("server saw %d requests, want %d", rec.count(), tc.requests)
			}
		})
	}
}

func Test429HTTPDate(t *testing.T) {
	srv, _ := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(429)
	})
	c := newTestClient(t, srv.URL, nil)
	_, err := c.GetSupportProfile(context.Background(), opts())
	var e *Error
	if !errors.As(err, &e) || e.RetryAfter < 88*time.Second || e.RetryAfter > 91*time.Second {
		t.Fatalf("err = %v, want RetryAfter about 90s", err)
	}
}

func TestCancelDuring429Wait(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(429)
	})
	c := newTestClient(t, srv.URL, nil)
	c.wait = sleep // the real one
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.GetSupportProfile(ctx, opts())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("took %v: the wait ignored the cancellation", d)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != 0 || e.RequestID == "" || !strings.Contains(e.Error(), "429") {
		t.Errorf("err = %v", err)
	}
	if rec.count() != 1 {
		t.Errorf("server saw %d requests, want 1", rec.count())
	}
}

func TestRealBackoffHonoursDeadline(t *testing.T) {
	// With the default backoff (0.5 s, 1.5 s) and a 300 ms deadline, the client must not start a
	// wait it cannot finish: it returns the 503 at once.
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Backoff = nil; cfg.Timeout = 300 * time.Millisecond })
	c.wait = sleep
	start := time.Now()
	_, err := c.GetSupportProfile(context.Background(), opts())
	if KindOf(err) != KindUnavailable {
		t.Fatalf("err = %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != 503 {
		t.Errorf("err = %v, want the last answer, 503", err)
	}
	if d := time.Since(start); d > 400*time.Millisecond || rec.count() != 1 {
		t.Errorf("took %v and %d requests", d, rec.count())
	}
}

func TestBOM(t *testing.T) {
	bom := "\xEF\xBB\xBF"
	srv, _ := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			writeJSON(w, 400, bom+`{"code":"3000","description":"The property 'Website' is invalid."}`)
			return
		}
		writeJSON(w, 200, bom+sampleProfile)
	})
	c := newTestClient(t, srv.URL, nil)
	p, err := c.GetSupportProfile(context.Background(), opts())
	if err != nil || p.Website != "www.microsoft.com" {
		t.Fatalf("GET with BOM: %v, %+v", err, p)
	}
	_, err = c.UpdateSupportProfile(context.Background(), opts(), p)
	var e *Error
	if !errors.As(err, &e) || e.Code != "3000" || e.Field() != "website" {
		t.Fatalf("error body with BOM: %v", err)
	}
}

func TestBadSuccessBodies(t *testing.T) {
	big := `{"email":"a","telephone":"b","website":"c","pad":"` + strings.Repeat("x", 200) + `"}`
	for _, tc := range []struct {
		name string
		body string
		want error
	}{
		{"empty", "", errEmptyBody},
		{"whitespace", " \n", errEmptyBody},
		{"BOM only", "\xEF\xBB\xBF", errEmptyBody},
		{"HTML", "<!DOCTYPE html><html><body>Sign in</body></html>", errHTMLBody},
		{"truncated", sampleProfile[:40], nil},
		{"garbage", "not json at all", nil},
		{"array", "[]", nil},
		{"null", "null", nil},
		{"string", `"x"`, nil},
		{"email is an object", `{"email":{"a":1}}`, nil},
		{"trailing data", sampleProfile + `{}`, nil},
		{"oversized", big, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, tc.body) })
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxResponseBytes = 200 })
			_, err := c.GetSupportProfile(context.Background(), opts())
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindBadResponse || e.Status != 200 || e.Err == nil {
				t.Fatalf("err = %v, want bad response with a cause", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if e.Description != "" {
				t.Errorf("Description = %q, want none", e.Description)
			}
			if rec.count() != 1 {
				t.Errorf("a bad 2xx was retried: %d requests", rec.count())
			}
		})
	}
}

func TestSizeLimit(t *testing.T) {
	body := sampleProfile
	srv, _ := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			writeJSON(w, 403, `{"code":"900150","description":"`+strings.Repeat("y", len(body))+`"}`)
			return
		}
		writeJSON(w, 200, body)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxResponseBytes = int64(len(body)) })
	if _, err := c.GetSupportProfile(context.Background(), opts()); err != nil {
		t.Fatalf("a body of exactly the limit: %v", err)
	}
	_, err := c.UpdateSupportProfile(context.Background(), opts(), NewProfile(support.Contact{Email: "", Telephone: "", Website: ""}))
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindForbidden || e.Description != "" || e.Err == nil {
		t.Fatalf("oversized error body: %v", err)
	}
}

func TestLongDescriptionTruncated(t *testing.T) {
	desc := strings.Repeat("é", 3000)
	srv, _ := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"code":"3000","description":"`+desc+`"}`)
	})
	c := newTestClient(t, srv.URL, nil)
	_, err := c.GetSupportProfile(context.Background(), opts())
	var e *Error
	if !errors.As(err, &e) || e.Description != strings.Repeat("é", 1024) {
		t.Fatalf("description of %d runes", len([]rune(e.Description)))
	}
}

func TestConnectionRefused(t *testing.T) {
	srv, _ := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {})
	url := srv.URL
	srv.Close()
	c := newTestClient(t, url, nil)
	o := opts()
	o.CorrelationID, o.RequestID = "c", "r"
	_, err := c.GetSupportProfile(context.Background(), o)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindUnavailable || e.Status != 0 || e.CorrelationID != "c" || e.RequestID != "r" {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want it to wrap ECONNREFUSED", err)
	}
	if n := len(c.waits.all()); n != 2 {
		t.Errorf("%d waits, want 2 (3 attempts)", n)
	}
}

// resetConn answers with a TCP reset, the way a dropping load balancer does.
func resetConn(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func TestConnectionReset(t *testing.T) {
	t.Run("always", func(t *testing.T) {
		srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { resetConn(t, w) })
		c := newTestClient(t, srv.URL, nil)
		_, err := c.GetSupportProfile(context.Background(), opts())
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindUnavailable || e.Status != 0 || e.Err == nil {
			t.Fatalf("err = %v", err)
		}
		if rec.count() != 3 {
			t.Errorf("server saw %d requests, want 3", rec.count())
		}
	})
	t.Run("once", func(t *testing.T) {
		srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				resetConn(t, w)
				return
			}
			writeJSON(w, 200, sampleProfile)
		})
		c := newTestClient(t, srv.URL, nil)
		if _, err := c.UpdateSupportProfile(context.Background(), opts(), NewProfile(support.Contact{Email: "a", Telephone: "b", Website: "c"})); err != nil {
			t.Fatal(err)
		}
		reqs := rec.all()
		if len(reqs) != 2 || reqs[0].Header.Get("MS-RequestId") != reqs[1].Header.Get("MS-RequestId") {
			t.Errorf("requests: %d", len(reqs))
		}
	})
	t.Run("body cut short", func(t *testing.T) {
		srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.Header().Set("Content-Length", "500")
				w.WriteHeader(200)
				_, _ = io.WriteString(w, sampleProfile[:20])
				w.(http.Flusher).Flush()
				resetConn(t, w)
				return
			}
			writeJSON(w, 200, sampleProfile)
		})
		c := newTestClient(t, srv.URL, nil)
		if _, err := c.GetSupportProfile(context.Background(), opts()); err != nil {
			t.Fatal(err)
		}
		if rec.count() != 2 {
			t.Errorf("server saw %d requests, want 2", rec.count())
		}
	})
}

func TestDeadlineExceeded(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = 100 * time.Millisecond })
	start := time.Now()
	_, err := c.GetSupportProfile(context.Background(), opts())
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Errorf("took %v", d)
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindUnavailable || e.Status != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if rec.count() != 1 {
		t.Errorf("server saw %d requests, want 1", rec.count())
	}
}

func TestCallerCancelled(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, sampleProfile) })
	c := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.GetSupportProfile(ctx, opts())
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, context.Canceled) || e.Kind != KindUnknown {
		t.Fatalf("err = %v", err)
	}
	if rec.count() != 0 || len(c.waits.all()) != 0 {
		t.Errorf("a cancelled call went on: %d requests", rec.count())
	}
}
