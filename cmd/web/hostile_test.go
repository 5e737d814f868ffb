package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pcsupport/internal/devidp"
)

// A sign-in link whose return target leaves the app lands on the app's own page instead.
func TestReturnTargetsOutsideTheAppAreRefused(t *testing.T) {
	app := startApp(t)
	for _, target := range []string{
		"//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example", "%2F%2Fevil.example",
		"/%5Cevil.example", "///evil.example", "https:evil.example", "/%2F/evil.example", "/./../evil", "javascript:alert(1)",
	} {
		b := newBrowser(t)
		resp, _ := b.signInAt(app, app.url+"auth/signin?next="+url.QueryEscape(target), "admin")
		if got := resp.Request.URL.String(); got != app.url {
			t.Errorf("next=%q landed on %s, want %s", target, got, app.url)
		}
	}
}

// A callback replayed with a used state, or a used code with a fresh state, is refused and makes
// no session.
func TestReplayedCallbackIsRefused(t *testing.T) {
	app := startApp(t)
	b := newBrowser(t)
	// Walk the dance by hand to catch the callback URL.
	client := noRedirect(b.client.Jar)
	follow := func(u string) *http.Response {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := follow(app.url + "auth/signin")
	resp = follow(resp.Header.Get("Location")) // authorize -> login page
	loginURL, _ := url.Parse(resp.Header.Get("Location"))
	loginURL = resp.Request.URL.ResolveReference(loginURL)
	form := url.Values{"persona": {"admin"}, "authRequestID": {loginURL.Query().Get("authRequestID")}}
	resp, err := client.PostForm(loginURL.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for resp.StatusCode/100 == 3 && !strings.HasPrefix(resp.Header.Get("Location"), app.url) {
		next, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
		resp = follow(next.String())
	}
	callback := resp.Header.Get("Location")
	if !strings.Contains(callback, "/auth/callback?") {
		t.Fatalf("no callback URL caught: %s", callback)
	}
	if r := follow(callback); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback: %d", r.StatusCode)
	}

	// The same callback again: the state was used.
	other := newBrowser(t)
	resp, doc := other.get(callback)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(text(doc.Find("main")), "already used") {
		t.Errorf("replayed callback: %d %q", resp.StatusCode, text(doc.Find("main")))
	}

	// The used code with a fresh state of this browser: the provider refuses the code.
	r := follow(app.url + "auth/signin")
	fresh, _ := url.Parse(r.Header.Get("Location"))
	code, _ := url.Parse(callback)
	resp, doc = b.get(app.url + "auth/callback?" + url.Values{"state": {fresh.Query().Get("state")}, "code": {code.Query().Get("code")}}.Encode())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(text(doc.Find("main")), "could not be completed") {
		t.Errorf("replayed code: %d %q", resp.StatusCode, text(doc.Find("main")))
	}

	// Missing state.
	resp, _ = other.get(app.url + "auth/callback?code=abc")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback without state: %d", resp.StatusCode)
	}
}

// Cross-site and token-less POSTs, oversized bodies, invalid UTF-8, very long values: refused with
// a clear answer, nothing changed.
func TestHostileSaves(t *testing.T) {
	app := startApp(t)
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	valid := formValues(doc)
	email, tel, web := app.dev.emu.Profile(devidp.TenantID)
	unchanged := func(what string) {
		t.Helper()
		if e, p, w := app.dev.emu.Profile(devidp.TenantID); e != email || p != tel || w != web {
			t.Errorf("%s changed Partner Center: %s %s %s", what, e, p, w)
		}
	}

	f := clone(valid)
	f.Set("telephone", "+1 555 0100 999")
	resp, page := b.post(app.url+"save", f, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(text(page.Find("main")), "did not come from this app") {
		t.Errorf("cross-site POST: %d %q", resp.StatusCode, text(page.Find("main")))
	}
	unchanged("a cross-site POST")

	big := clone(valid)
	big.Set("telephone", strings.Repeat("1", 100_000))
	resp, page = b.post(app.url+"save", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(text(page.Find("main")), "too large") {
		t.Errorf("oversized body: %d %q", resp.StatusCode, text(page.Find("main")))
	}
	unchanged("an oversized body")

	for _, tt := range []struct{ field, value, want string }{
		{"email", "sup\xffport@contoso.example", "not text"},
		{"telephone", strings.Repeat("5", 5000), "too long"},
		{"website", "javascript:alert(document.cookie)", "Enter a host name"},
		{"email", `"><script>alert(1)</script>@x.example`, "one email address"},
	} {
		f := clone(valid)
		f.Set(tt.field, tt.value)
		resp, frag := b.post(app.url+"save", f, "HX-Request", "true")
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(frag.Find("#"+tt.field+"-error")), tt.want) {
			t.Errorf("%s=%.40q: %d %q", tt.field, tt.value, resp.StatusCode, text(frag.Find("#"+tt.field+"-error")))
		}
		if strings.Contains(html(frag), "<script>alert") {
			t.Errorf("%s: markup echoed live", tt.field)
		}
	}
	unchanged("invalid values")
}

// Markup stored in Partner Center (by another tool) is shown as text, never run.
func TestStoredMarkupIsShownInert(t *testing.T) {
	app := startApp(t)
	evil := `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	app.dev.emu.SetProfile(devidp.TenantID, evil+"@x.example", "4255550100", "javascript:alert(3)")
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	raw := html(doc)
	if strings.Contains(raw, "<script>alert(1)") || strings.Contains(raw, "<img src=x") {
		t.Fatal("stored markup rendered as markup")
	}
	if got := doc.Find(`input[name="email"]`).AttrOr("value", ""); got != evil+"@x.example" {
		t.Errorf("the stored value is not shown as it is: %q", got)
	}
	if doc.Find(`a[href^="javascript:"]`).Length() != 0 {
		t.Error("a javascript: link was made from stored data")
	}
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
