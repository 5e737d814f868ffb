package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devidp"
)

func TestHTMXSaveAnswersWithTheFragment(t *testing.T) {
	app := startApp(t)
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	form := formValues(doc)
	oldWeb := form.Get("website")

	form.Set("website", "https://help.contoso-partner.example")
	resp, frag := b.post(app.url+"save", form, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || resp.Request.Method != http.MethodPost {
		t.Fatalf("htmx save: %d %s", resp.StatusCode, resp.Request.Method)
	}
	if frag.Find("header").Length() != 0 || frag.Find("#profile").Length() != 1 {
		t.Fatalf("htmx save did not answer with the form fragment:\n%s", html(frag))
	}
	if got := text(frag.Find(`#notice[role="status"]`)); !strings.Contains(got, "Website: "+oldWeb+" → https://help.contoso-partner.example") {
		t.Errorf("notice = %q", got)
	}
	saved := formValues(frag)

	// Invalid: 422, the message on the field, every typed value kept, nothing sent upstream.
	before := app.dev.emu.Stats()
	bad := formValues(frag)
	bad.Set("email", "two@a.example, three@b.example")
	bad.Set("telephone", "+44 20 7946 0958")
	resp, frag = b.post(app.url+"save", bad, "HX-Request", "true")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("invalid save answered %d, want 422", resp.StatusCode)
	}
	if got := text(frag.Find("#email-error")); got == "" {
		t.Errorf("no message next to the email field:\n%s", html(frag))
	}
	if v := frag.Find(`input[name="email"]`).AttrOr("value", ""); v != "two@a.example, three@b.example" {
		t.Errorf("typed email lost: %q", v)
	}
	if v := frag.Find(`input[name="telephone"]`).AttrOr("value", ""); v != "+44 20 7946 0958" {
		t.Errorf("typed telephone lost: %q", v)
	}
	if after := app.dev.emu.Stats(); after != before {
		t.Errorf("an invalid form called Partner Center: %+v -> %+v", before, after)
	}

	// Unchanged: nothing to save, and no upstream call at all.
	resp, frag = b.post(app.url+"save", saved, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || !strings.Contains(text(frag.Find("#notice")), "Nothing to save") {
		t.Errorf("unchanged save: %d %q", resp.StatusCode, text(frag.Find("#notice")))
	}
	if after := app.dev.emu.Stats(); after != before {
		t.Errorf("an unchanged form called Partner Center: %+v -> %+v", before, after)
	}
}

func TestBookmarkedURLComesBackAfterSignIn(t *testing.T) {
	app := startApp(t)
	b := newBrowser(t)
	resp, doc := b.signInAt(app, app.url+"?from=bookmark", "admin")
	if got := resp.Request.URL.String(); got != app.url+"?from=bookmark" || resp.StatusCode != http.StatusOK {
		t.Fatalf("after sign-in landed on %s (%d), want the bookmarked URL", got, resp.StatusCode)
	}
	if doc.Find(`input[name="telephone"]`).Length() != 1 {
		t.Fatal("no form on the bookmarked page")
	}
}

func TestSessionCookieAndSignOut(t *testing.T) {
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
	app := startApp(t, "--dev-token-lifetime", "4s")
	b := newBrowser(t)
	b.signIn(app, "admin")
	if got := app.dev.idp.Stats().Refreshes; got != 0 {
		t.Fatalf("refreshed %d times right after sign-in", got)
	}
	time.Sleep(3500 * time.Millisecond) // past three quarters of the token's life
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

func TestSecurityHeadersAndCSRF(t *testing.T) {
	app := startApp(t)
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	resp, _ := b.get(app.url)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
		t.Errorf("headers: %v", resp.Header)
	}

	form := formValues(doc)
	form.Set("telephone", "+1 206 555 0100")
	form.Del("_csrf")
	before := app.dev.emu.Stats()
	resp, page := b.post(app.url+"save", form)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(text(page.Find("main")), "expired or did not come from this app") {
		t.Errorf("POST without CSRF token: %d %q", resp.StatusCode, text(page.Find("main")))
	}
	if app.dev.emu.Stats() != before {
		t.Error("a POST without CSRF token reached Partner Center")
	}
	form.Set("_csrf", "forged")
	if resp, _ := b.post(app.url+"save", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF token: %d", resp.StatusCode)
	}
	if _, tel, _ := app.dev.emu.Profile(devidp.TenantID); tel == "+1 206 555 0100" {
		t.Error("saved without a valid CSRF token")
	}
}

func TestHealthzAndStaticAssets(t *testing.T) {
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
