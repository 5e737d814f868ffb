package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devidp"
)

// The refresh token is refused mid-edit (expired by inactivity, MFA expired, revoked): the typed
// values are kept, htmx is told to go and sign in, and after signing in the form shows them
// again with a line saying so; nothing is saved without a click.
func TestRefusedRefreshKeepsTypedValuesAcrossSignIn(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--dev-token-lifetime", "2s")
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	_, oldTel, _ := app.dev.emu.Profile(devidp.TenantID)
	form.Set("telephone", "+41 44 668 18 00")
	form.Set("website", "https://help.contoso-partner.example")

	app.dev.idp.RevokeRefreshTokens(devidp.Personas()[0].ObjectID)
	time.Sleep(1600 * time.Millisecond) // past three quarters of the token's life: a refresh is due, and refused
	resp, _ := b.post(app.url+"save", form, "HX-Request", "true")
	to := resp.Header.Get("HX-Redirect")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(to, "auth/signin") {
		t.Fatalf("save with a refused refresh: %d, HX-Redirect %q", resp.StatusCode, to)
	}
	if strings.Contains(to, "telephone") || strings.Contains(to, "41") {
		t.Errorf("typed values leaked into a URL: %s", to)
	}

	next, _ := url.Parse(app.url)
	target, _ := next.Parse(to)
	resp, doc := b.signInAt(app, target.String(), "admin")
	if resp.Request.URL.String() != app.url {
		t.Fatalf("after sign-in landed on %s", resp.Request.URL)
	}
	if got := text(doc.Find(`#notice[role="status"]`)); !strings.Contains(got, "Your values are back") {
		t.Errorf("no line saying the values are back: %q", got)
	}
	for name, want := range map[string]string{"telephone": "+41 44 668 18 00", "website": "https://help.contoso-partner.example"} {
		if got := doc.Find(`input[name="`+name+`"]`).AttrOr("value", ""); got != want {
			t.Errorf("%s restored as %q, want %q", name, got, want)
		}
	}
	if _, tel, _ := app.dev.emu.Profile(devidp.TenantID); tel != oldTel {
		t.Errorf("saved without a click: %q", tel)
	}

	// The restored form saves normally, and the values are given back only once.
	resp, frag := b.post(app.url+"save", formValues(doc), "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || !strings.Contains(text(frag.Find("#notice")), "Saved") {
		t.Errorf("saving the restored form: %d %q", resp.StatusCode, text(frag.Find("#notice")))
	}
	if _, doc = b.get(app.url); strings.Contains(text(doc.Find("main")), "Your values are back") {
		t.Error("the kept values came back a second time")
	}
}

// The server-side session ended (expired, or lost by the store) while the form was open,
// without JavaScript: the plain POST keeps the values and leads through sign-in back to the form.
func TestEndedSessionKeepsTypedValuesWithoutJavaScript(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	form.Set("email", "helpdesk@contoso-partner.example")

	ended, _ := filepath.Glob(filepath.Join(app.cfg.DataDir, "sessions", "session_*"))
	for _, f := range ended {
		os.Remove(f)
	}
	if len(ended) != 1 {
		t.Fatalf("%d session files, want the one of this sign-in", len(ended))
	}

	resp, _ := b.post(app.url+"save", form) // follows the redirects to the sign-in page
	if !strings.HasPrefix(resp.Request.URL.String(), app.dev.idpURL) {
		t.Fatalf("POST with an ended session went to %s", resp.Request.URL)
	}
	resp, doc := b.signInAt(app, resp.Request.URL.String(), "admin")
	if resp.Request.URL.String() != app.url {
		t.Errorf("after signing in again landed on %s, want the form", resp.Request.URL)
	}
	if got := doc.Find(`input[name="email"]`).AttrOr("value", ""); got != "helpdesk@contoso-partner.example" {
		t.Errorf("email after signing in again = %q", got)
	}
	if email, _, _ := app.dev.emu.Profile(devidp.TenantID); email == "helpdesk@contoso-partner.example" {
		t.Error("saved without a click")
	}
}
