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
	t.Parallel()
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
	t.Parallel()
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

// A body over the router's 64 KB limit is refused with a page that says so, before any handler
// reads it; nothing changes.
func TestOversizedBodyIsRefused(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	_, tel, _ := app.dev.emu.Profile(devidp.TenantID)
	form.Set("telephone", strings.Repeat("1", 100_000))
	resp, page := b.post(app.url+"save", form)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(text(page.Find("main")), "too large") {
		t.Errorf("oversized body: %d %q", resp.StatusCode, text(page.Find("main")))
	}
	if _, got, _ := app.dev.emu.Profile(devidp.TenantID); got != tel {
		t.Errorf("an oversized body changed Partner Center: %q", got)
	}
}
