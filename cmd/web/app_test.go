package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSessionCookieAndSignOut(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	b.signIn(app, "admin")
	u, _ := url.Parse(app.url)
	var session *http.Cookie
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "pcs_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if len(session.Value) > 200 {
		t.Errorf("the session cookie is %d bytes: tokens must stay on the server", len(session.Value))
	}

	// Sign out, then replay the old cookie from another client: the server-side session is gone.
	_, doc := b.get(app.url)
	resp, doc := b.post(app.url+"auth/signout", url.Values{"_csrf": {doc.Find(`header input[name="_csrf"]`).AttrOr("value", "")}})
	if resp.Request.URL.Path != "/auth/signed-out" || !strings.Contains(text(doc.Find("main")), "signed out") {
		t.Fatalf("after sign-out: %s %q", resp.Request.URL, text(doc.Find("main")))
	}
	r2 := withSessionCookie(t, app, session.Value)
	if r2.StatusCode != http.StatusSeeOther || !strings.Contains(r2.Header.Get("Location"), "auth/signin") {
		t.Errorf("old session cookie after sign-out: %d %s", r2.StatusCode, r2.Header.Get("Location"))
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	resp, err := noRedirect(nil).Get(app.url + "auth/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "pcs_signin_") {
			found = true
			// Sent back only to the sign-in routes, and gone after the ten minutes a sign-in may take.
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/auth/" || c.Secure || c.MaxAge != 600 {
				t.Errorf("sign-in cookie attributes: %+v", c)
			}
		}
	}
	if !found {
		t.Error("no pending sign-in cookie")
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
		t.Errorf("authorize request lacks PKCE, state or nonce: %s", loc)
	}
}

func TestCallbackErrorsAreExplained(t *testing.T) {
	t.Parallel()
	app := startApp(t)

	b := newBrowser(t)
	resp, doc := b.signInAt(app, app.url, "cancel")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(text(doc.Find("main")), "Sign-in was cancelled") {
		t.Errorf("cancelled sign-in: %d %q", resp.StatusCode, text(doc.Find("main")))
	}
	if doc.Find(`a[href*="auth/signin"]`).Length() == 0 {
		t.Error("no way to try again")
	}

	// Consent missing, as Entra ID reports it: the state is real, the answer an error.
	r, _ := noRedirect(b.client.Jar).Get(app.url + "auth/signin")
	r.Body.Close()
	loc, _ := url.Parse(r.Header.Get("Location"))
	resp, doc = b.get(app.url + "auth/callback?" + url.Values{"state": {loc.Query().Get("state")}, "error": {"invalid_client"},
		"error_description": {"AADSTS65001: The user or administrator has not consented to use the application."}}.Encode())
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(text(doc.Find("main")), "administrator has to approve") {
		t.Errorf("consent error: %d %q", resp.StatusCode, text(doc.Find("main")))
	}

	// The same state again is refused: each state is used once.
	resp, doc = b.get(app.url + "auth/callback?" + url.Values{"state": {loc.Query().Get("state")}, "code": {"x"}}.Encode())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(text(doc.Find("main")), "expired or was already used") {
		t.Errorf("replayed state: %d %q", resp.StatusCode, text(doc.Find("main")))
	}
}

func TestWithoutMFATheAppExplainsBeforeCallingPartnerCenter(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	resp, doc := b.signInAt(app, app.url, "nomfa")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(text(doc.Find("main")), "multi-factor authentication") {
		t.Fatalf("no-MFA user: %d %q", resp.StatusCode, text(doc.Find("main")))
	}
	if s := app.dev.emu.Stats(); s.Gets+s.Puts+s.Refused != 0 {
		t.Errorf("Partner Center was called for a token without MFA: %+v", s)
	}
}

func TestAccessTokenIsRefreshedOncePerLifetime(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--dev-token-lifetime", "2s")
	b := newBrowser(t)
	b.signIn(app, "admin")
	if got := app.dev.idp.Stats().Refreshes; got != 0 {
		t.Fatalf("refreshed %d times right after sign-in", got)
	}
	time.Sleep(1600 * time.Millisecond) // past three quarters of the token's life
	for range 3 {
		resp, doc := b.get(app.url)
		if resp.StatusCode != http.StatusOK || doc.Find(`input[name="telephone"]`).Length() != 1 {
			t.Fatalf("page after the token aged: %d", resp.StatusCode)
		}
	}
	if got := app.dev.idp.Stats().Refreshes; got != 1 {
		t.Errorf("refreshed %d times for three page views within one token lifetime, want 1", got)
	}
}

func TestHealthzAndStaticAssets(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	resp, _ := b.get(app.url + "healthz")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	doc := b.signIn(app, "admin")
	css := doc.Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	js := doc.Find(`script[src]`).AttrOr("src", "")
	for _, asset := range []string{css, js, doc.Find(`link[rel="icon"]`).AttrOr("href", "")} {
		if !strings.HasPrefix(asset, "/static/") {
			t.Fatalf("asset URL %q is not under /static/", asset)
		}
		resp, _ := b.get(app.url + strings.TrimPrefix(asset, "/"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", asset, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}

func TestSignInRenewsTheSessionID(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	b.signIn(app, "admin")
	u, _ := url.Parse(app.url)
	cookie := func() string {
		for _, c := range b.client.Jar.Cookies(u) {
			if c.Name == "pcs_session" {
				return c.Value
			}
		}
		return ""
	}
	first := cookie()
	b.signInAt(app, app.url+"auth/signin", "sales")
	second := cookie()
	if first == "" || second == "" || first == second {
		t.Fatalf("session cookie not renewed at sign-in: %q -> %q", first, second)
	}
	resp := withSessionCookie(t, app, first)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session from before the new sign-in still works: %d", resp.StatusCode)
	}
}

// noRedirect is a client that shows redirects instead of following them.
func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// withSessionCookie opens the app from a fresh client carrying only the given session cookie.
func withSessionCookie(t *testing.T, app *testApp, value string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, app.url, nil)
	req.AddCookie(&http.Cookie{Name: "pcs_session", Value: value})
	resp, err := noRedirect(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
