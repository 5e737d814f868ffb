package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is the Manager's clock (Config.Now) and the provider's, moved by the test.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// newTestClock starts at the real time: the sealed cookies' own age checks use it.
func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// browser keeps the cookies the app sets, as a browser does: it sends each to the paths under
// its own, and drops one the app expires.
type browser struct {
	t   *testing.T
	jar map[string]*http.Cookie // by name
}

func newBrowser(t *testing.T) *browser { return &browser{t: t, jar: map[string]*http.Cookie{}} }

// do sends a request through m.Middleware, as the app does, to handle, and keeps the cookies of
// the answer.
func (b *browser) do(m *Manager, method, target string, handle func(w http.ResponseWriter, r *http.Request)) *httptest.ResponseRecorder {
	b.t.Helper()
	rec := httptest.NewRecorder()
	m.Middleware(http.HandlerFunc(handle)).ServeHTTP(rec, b.request(method, target))
	b.keepCookies(rec)
	return rec
}

func (b *browser) request(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for _, c := range b.jar {
		if strings.HasPrefix(r.URL.Path, c.Path) {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return r
}

func (b *browser) keepCookies(rec *httptest.ResponseRecorder) {
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
			continue
		}
		b.jar[c.Name] = c
	}
}

// has reports whether the browser holds the cookie name.
func (b *browser) has(name string) bool {
	_, ok := b.jar[name]
	return ok
}

// pending lists the cookies of the sign-ins under way.
func (b *browser) pending() []string {
	var names []string
	for name := range b.jar {
		if strings.HasPrefix(name, pendingCookiePrefix) {
			names = append(names, name)
		}
	}
	return names
}

// People as the provider describes them: Ada and Bob work for Contoso.
var (
	ada = map[string]any{"sub": "ada", "oid": "oid-ada", "tid": "tid-contoso", "name": "Ada", "preferred_username": "ada@contoso.example"}
	bob = map[string]any{"sub": "bob", "oid": "oid-bob", "tid": "tid-contoso", "name": "Bob", "preferred_username": "bob@contoso.example"}
)

// startSignIn starts a sign-in in the browser and returns the provider URL it is sent to.
func (b *browser) startSignIn(m *Manager, returnTo string) string {
	b.t.Helper()
	var authURL string
	b.do(m, "GET", "/auth/signin", func(w http.ResponseWriter, r *http.Request) {
		var err error
		if authURL, err = m.StartSignIn(w, r, returnTo, SignInOptions{}); err != nil {
			b.t.Fatalf("start sign-in: %v", err)
		}
	})
	return authURL
}

// callback comes back from the provider with query, and returns where the app sends the
// person and FinishSignIn's error.
func (b *browser) callback(m *Manager, query url.Values) (target string, err error) {
	b.t.Helper()
	b.do(m, "GET", "/auth/callback?"+query.Encode(), func(w http.ResponseWriter, r *http.Request) {
		target, err = m.FinishSignIn(w, r)
	})
	return target, err
}

// finish is the provider signing person in for the sign-in sent to authURL, then the callback.
func (b *browser) finish(m *Manager, p *codeFlowProvider, authURL string, person map[string]any) (target string, err error) {
	b.t.Helper()
	code, err := p.authorizeAs(authURL, person)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.callback(m, url.Values{"state": {stateOf(b.t, authURL)}, "code": {code}})
}

// signIn is a whole sign-in of person in the browser.
func (b *browser) signIn(m *Manager, p *codeFlowProvider, person map[string]any) {
	b.t.Helper()
	if _, err := b.finish(m, p, b.startSignIn(m, "/"), person); err != nil {
		b.t.Fatalf("sign-in of %v: %v", person["sub"], err)
	}
}

func stateOf(t *testing.T, authURL string) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

// currentUser is who the app sees signed in on a page of the browser's.
func (b *browser) currentUser(m *Manager) (u User, err error) {
	b.do(m, "GET", "/", func(_ http.ResponseWriter, r *http.Request) { u, err = m.CurrentUser(r) })
	return u, err
}

// clockedApp is a provider and a Manager for it, both on clock.
func clockedApp(t *testing.T, adjust ...func(*Config)) (*Manager, *codeFlowProvider, *testClock) {
	t.Helper()
	clock := newTestClock()
	p := newCodeFlowProvider(t, "client_secret_basic", nil)
	p.now = clock.Now
	m := flowManager(t, p, "", append([]func(*Config){func(c *Config) { c.Now = clock.Now }}, adjust...)...)
	return m, p, clock
}
