package middleware

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"pcsupport/internal/logline"
)

// observed is one request as the metrics saw it.
type observed struct {
	route, method string
	status        int
}

// fakeMetrics records what ObserveRequests reports.
type fakeMetrics struct {
	mu       sync.Mutex
	inFlight int
	seen     []observed
}

func (m *fakeMetrics) RequestStarted() (done func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight++
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.inFlight--
	}
}

func (m *fakeMetrics) ObserveRequest(route, method string, status int, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen = append(m.seen, observed{route, method, status})
}

func (m *fakeMetrics) flying() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inFlight
}

// loggedApp is a router with the request log at level, and the routes a test adds.
type loggedApp struct {
	*echo.Echo
	metrics      *fakeMetrics
	logs         bytes.Buffer
	errorHandled int // how many times the error handler ran
}

func newLoggedApp(level slog.Level) *loggedApp {
	a := &loggedApp{Echo: echo.New(), metrics: &fakeMetrics{}}
	a.Use(echomw.RequestID())
	a.Use(ObserveRequests(slog.New(slog.NewJSONHandler(&a.logs, &slog.HandlerOptions{Level: level})), a.metrics))
	handle := a.HTTPErrorHandler
	a.HTTPErrorHandler = func(err error, c echo.Context) {
		a.errorHandled++
		handle(err, c)
	}
	return a
}

// get asks for target and returns the answer.
func (a *loggedApp) get(target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = "192.0.2.7:5555"
	a.ServeHTTP(rec, req)
	return rec
}

// lines are the log's lines, decoded.
func (a *loggedApp) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(a.logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// One line per request, at a level by what became of it: debug when it went well (counted by the
// metrics anyway), info when refused, warn when it failed, or higher when a handler asked; with
// what the handlers added. A failure's status is the one sent.
func TestRequestLogLevels(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler echo.HandlerFunc
		status  int
		level   string // "" when nothing is logged at info
	}{
		{"a page", func(c echo.Context) error { return c.String(http.StatusOK, "page") }, 200, ""},
		{"refused", func(c echo.Context) error { return echo.NewHTTPError(http.StatusForbidden) }, 403, "INFO"},
		{"failed", func(c echo.Context) error { return errors.New("partner center: connection reset") }, 500, "WARN"},
		{"a page a handler wants seen", func(c echo.Context) error {
			logline.AtLeast(c.Request().Context(), slog.LevelWarn)
			return c.String(http.StatusOK, "page")
		}, 200, "WARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newLoggedApp(slog.LevelInfo)
			a.GET("/profile", func(c echo.Context) error {
				logline.Add(c.Request().Context(), slog.String("user", "ada@contoso.example"))
				return tc.handler(c)
			})
			if rec := a.get("/profile"); rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if want := []observed{{"/profile", http.MethodGet, tc.status}}; len(a.metrics.seen) != 1 || a.metrics.seen[0] != want[0] {
				t.Errorf("metrics saw %v, want %v", a.metrics.seen, want)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.status >= 400]; a.errorHandled != want {
				t.Errorf("the error handler ran %d times, want %d", a.errorHandled, want)
			}
			lines := a.lines(t)
			if tc.level == "" {
				if len(lines) != 0 {
					t.Errorf("a page that went well is logged at info: %v", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("%d lines, want one: %v", len(lines), lines)
			}
			l := lines[0]
			if _, ok := l["request_id"]; !ok {
				t.Error("the line has no request id")
			}
			if l["level"] != tc.level || l["msg"] != "request" || l["status"] != float64(tc.status) || l["route"] != "/profile" ||
				l["method"] != "GET" || l["user"] != "ada@contoso.example" || l["client_ip"] != "192.0.2.7" {
				t.Errorf("line %v, want level %s, status %d, route, method, client, request id and the handler's user", l, tc.level, tc.status)
			}
		})
	}

	// At debug, the page that went well has its line too.
	a := newLoggedApp(slog.LevelDebug)
	a.GET("/profile", func(c echo.Context) error { return c.String(http.StatusOK, "page") })
	a.get("/profile")
	if lines := a.lines(t); len(lines) != 1 || lines[0]["level"] != "DEBUG" {
		t.Errorf("at debug: %v", lines)
	}
}

// The query string never reaches the log (the sign-in callback's carries the authorization
// code), and a visitor's long URL grows the line by little.
func TestRequestLogKeepsVisitorsInputOut(t *testing.T) {
	a := newLoggedApp(slog.LevelDebug)
	a.GET("/auth/callback", func(c echo.Context) error { return c.String(http.StatusOK, "") })
	a.get("/auth/callback?code=0.AXEA-SECRET-CODE&state=s")
	a.get("/" + strings.Repeat("a", 10000))
	lines := a.lines(t)
	if strings.Contains(a.logs.String(), "SECRET") || len(lines) != 2 || lines[0]["path"] != "/auth/callback" {
		t.Errorf("the log holds the query: %s", a.logs.String())
	}
	if n := len(a.logs.String()); n > 2000 {
		t.Errorf("a 10 KB URL made %d bytes of log", n)
	}
}

// Any URL that matches no route is counted under one label, so that scanners cannot make a
// series per URL; a route is counted by its pattern, not by the URL that matched it.
func TestUnmatchedURLsShareOneLabel(t *testing.T) {
	a := newLoggedApp(slog.LevelInfo)
	a.GET("/history/:page", func(c echo.Context) error { return c.String(http.StatusOK, "") })
	for _, u := range []string{"/wp-admin/setup.php", "/.env", "/history/2"} {
		a.get(u)
	}
	want := []observed{{"unmatched", "GET", 404}, {"unmatched", "GET", 404}, {"/history/:page", "GET", 200}}
	if len(a.metrics.seen) != len(want) {
		t.Fatalf("metrics saw %v, want %v", a.metrics.seen, want)
	}
	for i := range want {
		if a.metrics.seen[i] != want[i] {
			t.Errorf("request %d counted as %v, want %v", i, a.metrics.seen[i], want[i])
		}
	}
}

// A request is counted in flight while a handler works on it, and no longer once answered,
// whether it went well or not.
func TestRequestsInFlight(t *testing.T) {
	a := newLoggedApp(slog.LevelInfo)
	var during int
	a.GET("/save", func(c echo.Context) error {
		during = a.metrics.flying()
		return errors.New("failed")
	})
	a.get("/save")
	if during != 1 || a.metrics.flying() != 0 {
		t.Errorf("in flight %d during the request and %d after, want 1 and 0", during, a.metrics.flying())
	}
}
