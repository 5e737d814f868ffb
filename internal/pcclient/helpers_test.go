package pcclient

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"pcsupport/internal/testkit"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const testToken = "secret-access-token-do-not-log"

// staticToken is a token source that always returns the same access token.
type staticToken string

func (t staticToken) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: string(t), TokenType: "Bearer"}, nil
}

// seen is one request as the test server received it.
type seen struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// recorder counts and keeps the requests a test server receives.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (r *recorder) add(req *http.Request) int {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, seen{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
	return len(r.reqs)
}

func (r *recorder) all() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

func (r *recorder) count() int { return len(r.all()) }

// serve starts a server whose handler gets the 1-based number of each request.
func serve(t *testing.T, h func(n int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(rec.add(r), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

// waits records the pauses the client asked for, without spending them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

type testClient struct {
	*Client
	logs  *testkit.SyncBuffer
	waits *waits
}

// newTestClient returns a client of base with a fast backoff, a captured log and recorded
// waits; mod adjusts the Config. Set realWait to sleep for real.
func newTestClient(t *testing.T, base string, mod func(*Config)) testClient {
	t.Helper()
	logs := &testkit.SyncBuffer{}
	cfg := Config{
		BaseURL: base,
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Millisecond },
		Timeout: 2 * time.Second,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	w := &waits{}
	c.wait = w.wait
	return testClient{Client: c, logs: logs, waits: w}
}

func opts() CallOptions { return CallOptions{Token: staticToken(testToken)} }

const sampleProfile = `{"email":"email@sample.com","telephone":"4255555555","website":"www.microsoft.com",` +
	`"profileType":"support_profile",` +
	`"links":{"self":{"uri":"/v1/profiles/support","method":"GET","headers":[]}},` +
	`"attributes":{"objectType":"PartnerSupportProfile"}}`

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
