package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devidp"
)

// The whole path (sign in, view, save, a token refresh) with each way the app can prove its
// identity to the provider: the code exchange and the refresh grant both carry the credential.
func TestWholePathWithEachClientCredential(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"secret", "certificate", "federated"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			app := startApp(t, "--dev-client-auth", mode, "--dev-token-lifetime", "2s")
			b := newBrowser(t)
			doc := b.signIn(app, "admin")
			if doc.Find(`input[name="telephone"]`).Length() != 1 {
				t.Fatalf("no form after sign-in:\n%s", html(doc))
			}
			form := formValues(doc)
			form.Set("telephone", "+33 1 23 45 67 89")
			time.Sleep(1600 * time.Millisecond) // past three quarters of the access token's life
			_, doc = b.post(app.url+"save", form)
			if !strings.Contains(text(doc.Find(`#notice[role="status"]`)), "Saved") {
				t.Fatalf("save: %q", text(doc.Find("main")))
			}
			if _, tel, _ := app.dev.emu.Profile(devidp.TenantID); tel != "+33 1 23 45 67 89" {
				t.Errorf("emulator holds %q", tel)
			}
			if s := app.dev.idp.Stats(); s.CodeExchanges != 1 || s.Refreshes != 1 || s.RefusedRefreshes != 0 {
				t.Errorf("provider saw %+v; want one code exchange and one refresh, none refused", s)
			}
			want := map[string]string{"secret": "client secret", "certificate": "certificate \\\"CN=pcsupport development\\\"", "federated": "federated token from "}[mode]
			if !strings.Contains(app.logs.String(), want) {
				t.Errorf("the start-up log does not name the credential (%s)", want)
			}
		})
	}
}

// With --sign-out-of-microsoft, signing out ends the app's session, then the provider's, which
// sends the person back to the app's signed-out page: the dev provider, as ory/hydra does, only
// with the ID token it issued to the app (id_token_hint).
func TestSignOutOfMicrosoftToo(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--sign-out-of-microsoft")
	b := newBrowser(t)
	b.signIn(app, "admin")
	var hops []*url.URL
	b.client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		hops = append(hops, req.URL)
		return nil
	}
	_, doc := b.get(app.url)
	resp, doc := b.post(app.url+"auth/signout", url.Values{"_csrf": {doc.Find(`header input[name="_csrf"]`).AttrOr("value", "")}})
	if resp.Request.URL.String() != app.url+"auth/signed-out" || !strings.Contains(text(doc.Find("main")), "signed out") {
		t.Fatalf("after sign-out: %s %q", resp.Request.URL, text(doc.Find("main")))
	}
	if len(hops) != 2 || !strings.HasPrefix(hops[0].String(), app.dev.idpURL) {
		t.Fatalf("sign-out went %v; want the provider, then the signed-out page", hops)
	}
	q := hops[0].Query()
	if q.Get("post_logout_redirect_uri") != app.url+"auth/signed-out" || q.Get("logout_hint") != "O.dev."+devidp.Personas()[0].ObjectID ||
		q.Get("id_token_hint") == "" {
		t.Errorf("end-session request %s", hops[0])
	}
	if s := app.dev.idp.Stats(); s.SignOuts != 1 {
		t.Errorf("the provider ended %d sessions, want the person's", s.SignOuts)
	}
	if resp, _ := b.get(app.url); !strings.HasPrefix(resp.Request.URL.String(), app.dev.idpURL) {
		t.Errorf("after sign-out the app still knew the person: %s", resp.Request.URL)
	}
}

// With --dev, a forced --client-auth-method registers the app with the dev provider for that
// method alone, and the app uses it.
func TestDevProviderTakesTheForcedSecretMethod(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--client-auth-method", "client_secret_post")
	if doc := newBrowser(t).signIn(app, "admin"); doc.Find(`input[name="telephone"]`).Length() != 1 {
		t.Fatalf("no form after sign-in:\n%s", html(doc))
	}
	if !strings.Contains(app.logs.String(), "client secret sent as client_secret_post") {
		t.Error("the log does not say the secret is sent as client_secret_post")
	}
}
