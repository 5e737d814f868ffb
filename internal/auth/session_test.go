package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"pcsupport/internal/sessionstore"
)

// countingStore counts the reads of sessions, and stops answering when told to, as Redis down.
type countingStore struct {
	sessionstore.Store
	mu    sync.Mutex
	reads int
	down  bool
}

func (s *countingStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s.mu.Lock()
	s.reads++
	down := s.down
	s.mu.Unlock()
	if down {
		return sessions.NewSession(s, name), fmt.Errorf("read session: %w: connection refused", sessionstore.ErrUnavailable)
	}
	return s.Store.New(r, name)
}

// count returns the reads since the last call.
func (s *countingStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.reads
	s.reads = 0
	return n
}

func (s *countingStore) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func countedApp(t *testing.T) (*Manager, *codeFlowProvider, *testClock, *countingStore) {
	t.Helper()
	var store *countingStore
	m, p, clock := clockedApp(t, func(c *Config) {
		store = &countingStore{Store: c.Store}
		c.Store = store
	})
	return m, p, clock, store
}

// A page asks who is signed in, takes the one-time message and uses the token: the session is
// read from the store once (it is decrypted and decoded once), not at every question.
func TestOneReadOfTheSessionPerRequest(t *testing.T) {
	t.Parallel()
	m, p, _, store := countedApp(t)
	b := newBrowser(t)
	b.signIn(m, p, ada)
	if err := b.addFlash(m, "Saved"); err != nil {
		t.Fatal(err)
	}
	page := func(w http.ResponseWriter, r *http.Request) {
		for range 2 {
			if u, err := m.CurrentUser(r); err != nil || u.Subject != "ada" {
				t.Errorf("CurrentUser: %+v, %v", u, err)
			}
		}
		if got := string(m.TakeFlash(w, r)); got != "Saved" {
			t.Errorf("the message is %q", got)
		}
		if _, err := m.TokenSource(w, r).Token(); err != nil {
			t.Errorf("token: %v", err)
		}
	}
	store.count()
	b.do(m, "GET", "/", page)
	if n := store.count(); n != 1 {
		t.Errorf("a page read the session %d times, want once", n)
	}

	// The middleware is what makes it one: without it, every question reads the store.
	if err := b.addFlash(m, "Saved"); err != nil {
		t.Fatal(err)
	}
	store.count()
	rec := httptest.NewRecorder()
	page(rec, b.request("GET", "/"))
	if n := store.count(); n < 3 {
		t.Errorf("without the middleware the page read the session %d times; the count above proves nothing", n)
	}
}

// Nobody signed in: asking twice reads the store once, and says so both times.
func TestOneReadWhenNobodyIsSignedIn(t *testing.T) {
	t.Parallel()
	m, _, _, store := countedApp(t)
	b := newBrowser(t)
	b.do(m, "GET", "/", func(w http.ResponseWriter, r *http.Request) {
		for range 2 {
			if _, err := m.CurrentUser(r); !errors.Is(err, ErrNotSignedIn) {
				t.Errorf("CurrentUser: %v, want ErrNotSignedIn", err)
			}
		}
	})
	if n := store.count(); n != 1 {
		t.Errorf("read the store %d times, want once", n)
	}
}

// With the session store down a request asks it once and is told "unavailable" at every
// question, not "signed out"; what Ada typed is still kept for her, by the identity cookie.
func TestSessionStoreDownWithinARequest(t *testing.T) {
	t.Parallel()
	m, p, _, store := countedApp(t)
	b := newBrowser(t)
	b.signIn(m, p, ada)
	store.setDown(true)
	store.count()
	b.do(m, "POST", "/save", func(w http.ResponseWriter, r *http.Request) {
		if _, err := m.CurrentUser(r); !errors.Is(err, sessionstore.ErrUnavailable) {
			t.Errorf("CurrentUser: %v, want ErrUnavailable", err)
		}
		if err := m.AddFlash(w, r, []byte("Saved")); !errors.Is(err, sessionstore.ErrUnavailable) {
			t.Errorf("AddFlash: %v, want ErrUnavailable", err)
		}
		if err := m.KeepFormValues(w, r, typed); err != nil {
			t.Errorf("KeepFormValues: %v", err)
		}
	})
	if n := store.count(); n != 1 {
		t.Errorf("the request asked the store %d times, want once", n)
	}
	store.setDown(false)
	if got := b.takeKept(m); len(got) == 0 {
		t.Error("what Ada typed during the outage is not given back to her")
	}
}

// Signing out ends the session, at once in the same request and for good in the browser, and
// forgets everything kept for the person: the message, what they typed, who they were.
func TestSignOutForgetsThePerson(t *testing.T) {
	t.Parallel()
	m, p, _ := clockedApp(t)
	b := newBrowser(t)
	b.signIn(m, p, ada)
	if err := b.addFlash(m, "Saved"); err != nil {
		t.Fatal(err)
	}
	if err := b.keepTyped(m, typed); err != nil {
		t.Fatal(err)
	}
	session := *b.jar[sessionCookie]
	b.do(m, "POST", "/auth/signout", func(w http.ResponseWriter, r *http.Request) {
		if _, err := m.CurrentUser(r); err != nil {
			t.Fatalf("before signing out: %v", err)
		}
		if err := m.SignOut(w, r); err != nil {
			t.Errorf("SignOut: %v", err)
		}
		if _, err := m.CurrentUser(r); !errors.Is(err, ErrNotSignedIn) {
			t.Errorf("the rest of the sign-out request still sees Ada: %v", err)
		}
	})
	for _, name := range []string{sessionCookie, flashCookie, keptCookie, identityCookie} {
		if b.has(name) {
			t.Errorf("the browser still holds %s after signing out", name)
		}
	}
	// The old session cookie, kept by someone, no longer signs anybody in.
	b.jar[sessionCookie] = &session
	if _, err := b.currentUser(m); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("the session cookie from before the sign-out: %v, want ErrNotSignedIn", err)
	}
}

// A session lasts SessionLifetime from the sign-in, however busy: refreshing its tokens does not
// make it last longer.
func TestASessionLastsItsLifetimeFromSignIn(t *testing.T) {
	t.Parallel()
	m, p, clock := clockedApp(t, func(c *Config) { c.SessionLifetime = time.Hour })
	b := newBrowser(t)
	b.signIn(m, p, ada)
	clock.Advance(59 * time.Minute) // the access token (an hour) is refreshed now
	b.do(m, "GET", "/", func(w http.ResponseWriter, r *http.Request) {
		if _, err := m.TokenSource(w, r).Token(); err != nil {
			t.Errorf("token after 59 minutes: %v", err)
		}
	})
	if methods, _ := p.seen(); len(methods) != 2 {
		t.Fatalf("%d token requests, want the sign-in's and a refresh", len(methods))
	}
	clock.Advance(2 * time.Minute)
	if _, err := b.currentUser(m); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("61 minutes after signing in, for a lifetime of an hour: %v, want ErrNotSignedIn", err)
	}
}

// An access token is used until RefreshMargin (2 minutes) before it expires, then renewed: no
// token request before, one at that point.
func TestAccessTokenRenewedShortlyBeforeItExpires(t *testing.T) {
	t.Parallel()
	m, p, clock := clockedApp(t)
	b := newBrowser(t)
	b.signIn(m, p, ada) // the provider's access tokens last an hour
	token := func() string {
		var access string
		b.do(m, "GET", "/", func(w http.ResponseWriter, r *http.Request) {
			tok, err := m.TokenSource(w, r).Token()
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			access = tok.AccessToken
		})
		return access
	}
	first := token()
	clock.Advance(57 * time.Minute)
	if got := token(); got != first {
		t.Error("renewed 3 minutes before expiry")
	}
	if methods, _ := p.seen(); len(methods) != 1 {
		t.Errorf("%d token requests, want only the sign-in's", len(methods))
	}
	clock.Advance(90 * time.Second)
	if got := token(); got == first {
		t.Error("not renewed 90 s before expiry")
	}
}

// Short-lived tokens are renewed after three quarters of their life, rather than barely used;
// a token the provider gave no expiry is used as it is.
func TestWhenAnAccessTokenIsStillFresh(t *testing.T) {
	t.Parallel()
	obtained := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	margin := 2 * time.Minute
	for _, tc := range []struct {
		name  string
		life  time.Duration // zero: no expiry
		after time.Duration
		fresh bool
	}{
		{"an hour's token after 57 minutes", time.Hour, 57 * time.Minute, true},
		{"an hour's token after 58.5 minutes", time.Hour, 58*time.Minute + 30*time.Second, false},
		{"a 4-minute token after 2.5 minutes", 4 * time.Minute, 150 * time.Second, true},
		{"a 4-minute token after 3.1 minutes", 4 * time.Minute, 186 * time.Second, false},
		{"a token without expiry a day later", 0, 24 * time.Hour, true},
	} {
		tok := storedTokens{Access: "a", Obtained: obtained}
		if tc.life > 0 {
			tok.Expiry = obtained.Add(tc.life)
		}
		if got := tok.fresh(obtained.Add(tc.after), margin); got != tc.fresh {
			t.Errorf("%s: fresh %v, want %v", tc.name, got, tc.fresh)
		}
	}
}

// The greeting names the person by the first thing the provider gave: name, username, email,
// subject.
func TestDisplayName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		u    User
		want string
	}{
		{User{Name: "Ada Admin", Username: "ada@contoso.example", Email: "ada@mail.example", Subject: "s"}, "Ada Admin"},
		{User{Username: "ada@contoso.example", Email: "ada@mail.example", Subject: "s"}, "ada@contoso.example"},
		{User{Email: "ada@mail.example", Subject: "s"}, "ada@mail.example"},
		{User{Subject: "s"}, "s"},
		{User{}, ""},
	} {
		if got := tc.u.DisplayName(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.u, got, tc.want)
		}
	}
}

// When the ID token says nothing of MFA, the access token's amr is read if it is a JWT; an
// opaque or malformed access token says nothing either, and Partner Center decides.
func TestMFAFromTheAccessToken(t *testing.T) {
	t.Parallel()
	jwtWith := func(payload string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2lnbmF0dXJl"
	}
	for _, tc := range []struct {
		name, token string
		amr         []string
		mfaMissing  bool
	}{
		{"a JWT with MFA", jwtWith(`{"amr":["pwd","mfa"]}`), []string{"pwd", "mfa"}, false},
		{"a JWT without MFA", jwtWith(`{"amr":["pwd"]}`), []string{"pwd"}, true},
		{"a JWT without amr", jwtWith(`{"sub":"ada"}`), nil, false},
		{"an opaque token", "EwBwA8l6BAAU7p9QDpi", nil, false},
		{"two parts", "eyJhbGciOiJSUzI1NiJ9.eyJhbXIiOlsicHdkIl19", nil, false},
		{"a payload not base64url", "a.!!!.c", nil, false},
		{"a payload not JSON", jwtWith("amr=pwd"), nil, false},
	} {
		amr := amrFromJWT(tc.token)
		u := User{AMR: amr, AMRSaid: amr != nil}
		if !slices.Equal(amr, tc.amr) || u.MFAMissing() != tc.mfaMissing {
			t.Errorf("%s: amr %q, MFA missing %v; want %q, %v", tc.name, amr, u.MFAMissing(), tc.amr, tc.mfaMissing)
		}
	}
}
