package auth

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/testkit"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/clientauth"
)

func discoveryOnly(t *testing.T, endSession bool) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc := map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/keys"}
		if endSession {
			doc["end_session_endpoint"] = srv.URL + "/oauth2/v2.0/logout?x-client=1"
		}
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func signOutManager(t *testing.T, issuer string, signOutOfProvider bool, log *slog.Logger) (*Manager, *http.Cookie) {
	t.Helper()
	store, err := sessionstore.NewFileStore(t.TempDir(), sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, testKeys()...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Issuer: issuer, ClientID: "client", ClientCredential: clientauth.Secret("s"), RedirectURL: "https://app.example/p/auth/callback",
		SignOutOfProvider: signOutOfProvider, SignedOutURL: "https://app.example/p/auth/signed-out", Store: store, CookieKeys: testKeys(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
	s.Values["data"] = sessionData{User: User{Username: "ada@example.com", LoginHint: "O.opaque-hint", SignedInAt: time.Now()}}
	return m, testkit.SaveSession(t, store, s)
}

func TestProviderSignOutURL(t *testing.T) {
	idp := discoveryOnly(t, true)
	m, c := signOutManager(t, idp.URL, true, slog.New(slog.DiscardHandler))
	got, err := url.Parse(m.ProviderSignOutURL(testkit.RequestWithCookie(c)))
	if err != nil {
		t.Fatal(err)
	}
	q := got.Query()
	if got.Path != "/oauth2/v2.0/logout" || q.Get("x-client") != "1" || q.Get("post_logout_redirect_uri") != "https://app.example/p/auth/signed-out" ||
		q.Get("logout_hint") != "O.opaque-hint" || q.Get("client_id") != "client" {
		t.Errorf("sign-out URL %s", got)
	}
	// The session was made before the app kept ID tokens: signed out all the same, without one.
	if q.Has("id_token_hint") {
		t.Errorf("id_token_hint %q for a session that holds no ID token", q.Get("id_token_hint"))
	}
	// Signed out of the app already: still signed out of the provider, without a hint.
	if u := m.ProviderSignOutURL(httptest.NewRequest("POST", "/auth/signout", nil)); !strings.Contains(u, "post_logout_redirect_uri") || strings.Contains(u, "logout_hint") {
		t.Errorf("without a session: %s", u)
	}

	off, c := signOutManager(t, idp.URL, false, slog.New(slog.DiscardHandler))
	if u := off.ProviderSignOutURL(testkit.RequestWithCookie(c)); u != "" {
		t.Errorf("not asked to sign out of the provider, yet sent there: %s", u)
	}
}

// A provider without end_session_endpoint: sign-out stays in the app, and the log says why.
func TestProviderWithoutEndSessionEndpoint(t *testing.T) {
	var logs bytes.Buffer
	m, c := signOutManager(t, discoveryOnly(t, false).URL, true, slog.New(slog.NewTextHandler(&logs, nil)))
	if err := m.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "no end_session_endpoint") {
		t.Errorf("no warning at discovery:\n%s", logs.String())
	}
	if u := m.ProviderSignOutURL(testkit.RequestWithCookie(c)); u != "" {
		t.Errorf("sent to %q", u)
	}
}
