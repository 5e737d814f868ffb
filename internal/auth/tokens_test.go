package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/testkit"
	"pcsupport/internal/testkit/redistest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/keyedlock"
)

// rotatingProvider is a token endpoint that, like Entra ID and the dev provider, rotates the
// refresh token and refuses a spent one. Only discovery and the refresh grant are served.
type rotatingProvider struct {
	*httptest.Server
	mu        sync.Mutex
	current   string // the one refresh token that works
	issued    int
	refreshes int
	refused   int
	delay     time.Duration // widens the window in which refreshes overlap
	before    func()        // runs before each grant is answered
	lifetime  time.Duration
}

func newRotatingProvider(t *testing.T, firstRefresh string) *rotatingProvider {
	p := &rotatingProvider{current: firstRefresh, lifetime: time.Hour}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token",
			"jwks_uri": p.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(p.delay)
		if p.before != nil {
			p.before()
		}
		rt := r.PostFormValue("refresh_token")
		p.mu.Lock()
		if r.PostFormValue("grant_type") != "refresh_token" || rt != p.current {
			p.refused++
			p.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"AADSTS70008: The refresh token has already been used"}`)
			return
		}
		p.issued++
		p.refreshes++
		p.current = fmt.Sprintf("refresh-%d", p.issued)
		body := map[string]any{"access_token": fmt.Sprintf("access-%d", p.issued), "refresh_token": p.current,
			"token_type": "Bearer", "expires_in": int(p.lifetime / time.Second)}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *rotatingProvider) counts() (refreshes, refused int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshes, p.refused
}

func newTestManager(t *testing.T, issuer string, store sessionstore.Store, locker RefreshLocker) *Manager {
	t.Helper()
	m, err := New(Config{Issuer: issuer, ClientID: "client", ClientCredential: clientauth.Secret("secret"), RedirectURL: "http://app/auth/callback",
		Store: store, CookieKeys: testKeys(), RefreshLocker: locker, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// signedInWithExpiredToken stores a session whose access token has expired and returns the
// browser's cookie for it.
func signedInWithExpiredToken(t *testing.T, store sessions.Store, refresh string) *http.Cookie {
	t.Helper()
	s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
	now := time.Now()
	s.Values["data"] = sessionData{User: User{Username: "ada@example.com", SignedInAt: now},
		Tokens: storedTokens{Access: "access-0", Refresh: refresh, Type: "Bearer", Expiry: now.Add(-time.Minute), Obtained: now.Add(-time.Hour)}}
	return testkit.SaveSession(t, store, s)
}

func storedRefreshToken(t *testing.T, store sessions.Store, c *http.Cookie) string {
	t.Helper()
	d, _ := testkit.LoadSession(store, c).Values["data"].(sessionData)
	return d.Tokens.Refresh
}

// Two replicas sharing a Redis store and the Redis lock, with requests of the same session
// arriving at both at once: one refresh, everyone gets its token, and the rotated refresh token
// is what the session holds (it refreshes again later).
func TestReplicasRefreshASessionOnce(t *testing.T) {
	client := redistest.Start(t).Client(t)
	keys := testKeys()
	opts := sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}
	store1, store2 := sessionstore.NewRedisStore(client, opts, keys...), sessionstore.NewRedisStore(client, opts, keys...)
	idp := newRotatingProvider(t, "refresh-0")
	idp.delay = 50 * time.Millisecond
	replicas := []*Manager{
		newTestManager(t, idp.URL, store1, keyedlock.NewRedis(client, "pcs:refresh-lock:", RefreshLockTTL)),
		newTestManager(t, idp.URL, store2, keyedlock.NewRedis(client, "pcs:refresh-lock:", RefreshLockTTL)),
	}
	c := signedInWithExpiredToken(t, store1, "refresh-0")

	var wg sync.WaitGroup
	got := make([]string, 10)
	for i := range got {
		wg.Go(func() {
			tok, err := replicas[i%2].TokenSource(httptest.NewRecorder(), testkit.RequestWithCookie(c)).Token()
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			got[i] = tok.AccessToken
		})
	}
	wg.Wait()
	for i, a := range got {
		if a != "access-1" {
			t.Errorf("request %d got access token %q, want access-1", i, a)
		}
	}
	if refreshes, refused := idp.counts(); refreshes != 1 || refused != 0 {
		t.Errorf("%d refreshes and %d refused, want exactly 1 and none", refreshes, refused)
	}
	if rt := storedRefreshToken(t, store2, c); rt != "refresh-1" {
		t.Fatalf("the session holds refresh token %q, want the rotated refresh-1", rt)
	}
	// The stored refresh token is the live one: the next refresh works.
	if err := replicas[1].RefreshAfterRejection(httptest.NewRecorder(), testkit.RequestWithCookie(c), "access-1"); err != nil {
		t.Errorf("the next refresh: %v", err)
	}
}

// A refresh refused because another replica spent the refresh token meanwhile (its lock had
// expired, say) uses the tokens that replica stored, instead of ending the session.
func TestRefreshRefusedAfterAnotherRotatedItUsesTheStoredTokens(t *testing.T) {
	store, err := sessionstore.NewFileStore(t.TempDir(), sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, testKeys()...)
	if err != nil {
		t.Fatal(err)
	}
	idp := newRotatingProvider(t, "refresh-0")
	m := newTestManager(t, idp.URL, store, nil)
	c := signedInWithExpiredToken(t, store, "refresh-0")

	// While this replica's grant is on its way, another replica, whose lock does not exclude this
	// one (as an expired lock would not), spends refresh-0 and stores refresh-1.
	other := newTestManager(t, idp.URL, store, nil)
	var first atomic.Bool
	idp.before = func() {
		if first.CompareAndSwap(false, true) {
			if _, err := other.TokenSource(httptest.NewRecorder(), testkit.RequestWithCookie(c)).Token(); err != nil {
				t.Errorf("the other replica's refresh: %v", err)
			}
		}
	}

	tok, err := m.TokenSource(httptest.NewRecorder(), testkit.RequestWithCookie(c)).Token()
	if err != nil {
		t.Fatalf("refresh refused although the other replica stored new tokens: %v", err)
	}
	if tok.AccessToken != "access-1" {
		t.Errorf("access token %q, want the one the other replica stored (access-1)", tok.AccessToken)
	}
	if refreshes, refused := idp.counts(); refreshes != 1 || refused == 0 {
		t.Errorf("%d refreshes, %d refused; want the other replica's and this one's refused", refreshes, refused)
	}
}

// A refresh token refused with nothing newer stored ends the session: sign in again.
func TestRefreshRefusedAsksToSignIn(t *testing.T) {
	store, err := sessionstore.NewFileStore(t.TempDir(), sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, testKeys()...)
	if err != nil {
		t.Fatal(err)
	}
	idp := newRotatingProvider(t, "refresh-9")
	m := newTestManager(t, idp.URL, store, nil)
	c := signedInWithExpiredToken(t, store, "refresh-0")
	if _, err := m.TokenSource(httptest.NewRecorder(), testkit.RequestWithCookie(c)).Token(); !errors.Is(err, ErrSignInRequired) {
		t.Errorf("refused refresh: %v, want ErrSignInRequired", err)
	}
}
