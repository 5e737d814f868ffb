package main

import (
	"net/http"
	"strings"
	"testing"

	"pcsupport/internal/devidp"
)

// The whole path with no JavaScript: sign in through the dev provider, load, change, save, and
// the emulator holds the new value. Every page carries the security headers the router sets.
func TestWholePathSignInLoadChangeSave(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	checkSecurityHeaders(t, b, app.url)

	if got := text(doc.Find("header")); !strings.Contains(got, "Ada Admin") {
		t.Errorf("header does not name the signed-in person: %q", got)
	}
	if doc.Find(`header form[action="/auth/signout"] button`).Length() != 1 {
		t.Error("no sign-out button")
	}
	email, tel, web := app.dev.emu.Profile(devidp.TenantID)
	for name, want := range map[string]string{"email": email, "telephone": tel, "website": web} {
		in := doc.Find(`input[name="` + name + `"]`)
		if got := in.AttrOr("value", "?"); got != want {
			t.Errorf("%s prefilled with %q, Partner Center has %q", name, got, want)
		}
		if id := in.AttrOr("id", ""); doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("%s has no label", name)
		}
	}

	form := formValues(doc)
	form.Set("telephone", "+33 1 23 45 67 89")
	resp, doc := b.post(app.url+"save", form)
	if resp.StatusCode != http.StatusOK || resp.Request.Method != http.MethodGet {
		t.Fatalf("save answered %d (%s), want a redirect to the page:\n%s", resp.StatusCode, resp.Request.Method, html(doc))
	}
	notice := text(doc.Find(`#notice[role="status"]`))
	if !strings.Contains(notice, "Saved") || !strings.Contains(notice, "Telephone: "+tel+" → +33 1 23 45 67 89") {
		t.Errorf("success message = %q", notice)
	}
	if _, gotTel, _ := app.dev.emu.Profile(devidp.TenantID); gotTel != "+33 1 23 45 67 89" {
		t.Errorf("emulator holds telephone %q", gotTel)
	}

	// Reloading shows the new value, and the one-time message is gone.
	_, doc = b.get(app.url)
	if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != "+33 1 23 45 67 89" {
		t.Errorf("after reload telephone = %q", got)
	}
	if doc.Find(`#notice[role="status"]`).Length() != 0 {
		t.Error("the saved message showed again after a reload")
	}
}

// checkSecurityHeaders: a CSP without inline code or framing, nosniff and a referrer policy.
func checkSecurityHeaders(t *testing.T, b *browser, page string) {
	t.Helper()
	resp, _ := b.get(page)
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
}
