package devidp

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/oauth2"
)

func TestAuthorizeRefusals(t *testing.T) {
	e := newTestEnv(t, "", nil)
	for _, tc := range []struct {
		name  string
		opts  []oauth2.AuthCodeOption
		error string
	}{
		{"no code_challenge", nil, "invalid_request"},
		{"plain method", []oauth2.AuthCodeOption{
			oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("code_challenge_method", "plain"),
		}, "invalid_request"},
		{"prompt=none", []oauth2.AuthCodeOption{
			oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("prompt", "none"),
		}, "login_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.browser.Get(e.oauth.AuthCodeURL(defaultState, tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := appCallback(t, resp)
			if got.Get("error") != tc.error || got.Get("state") != defaultState || got.Get("code") != "" {
				t.Errorf("callback query %v, want %s with the state", got, tc.error)
			}
		})
	}
}

func TestAuthorizeRefusesUnknownClientAndRedirectURI(t *testing.T) {
	e := newTestEnv(t, "", nil)
	for name, change := range map[string]func(*oauth2.Config){
		"unknown client":        func(c *oauth2.Config) { c.ClientID = "someone-else" },
		"unregistered redirect": func(c *oauth2.Config) { c.RedirectURL = "http://127.0.0.1:9/elsewhere" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := e.oauth
			change(&cfg)
			resp, err := e.browser.Get(cfg.AuthCodeURL(defaultState, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// Never redirected: the redirect URI cannot be trusted.
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	e := newTestEnv(t, "", nil)
	page, form := e.openSignInPage(t, e.oauth.AuthCodeURL(defaultState, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	cancel := page.Find("button#cancel")
	form.Set(cancel.AttrOr("name", ""), cancel.AttrOr("value", ""))
	got := e.submit(t, page, form)
	if got.Get("error") != "access_denied" || got.Get("error_description") == "" || got.Get("state") != defaultState {
		t.Errorf("callback query %v, want access_denied with a description and the state", got)
	}
	if s := e.provider.Stats(); s.SignIns != 0 {
		t.Errorf("Stats %+v, want no sign-in", s)
	}
}

func TestSignInPage(t *testing.T) {
	e := newTestEnv(t, "", nil)
	resp, err := e.browser.Get(e.oauth.AuthCodeURL(defaultState, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), e.provider.Issuer()+"/login?") {
		t.Errorf("sign-in page at %s", resp.Request.URL)
	}
	if h := page.Find("h1").Text(); h != "Development sign-in" {
		t.Errorf("heading %q", h)
	}
	if !strings.Contains(page.Find("main").Text(), "never used in production") {
		t.Error("the page does not say it is never used in production")
	}
	if n := page.Find("script").Length(); n != 0 {
		t.Errorf("%d script elements, want none", n)
	}
	if m := page.Find("form").AttrOr("method", ""); m != "post" {
		t.Errorf("form method %q, want post", m)
	}
	for _, p := range Personas() {
		button := page.Find("button").FilterFunction(func(_ int, b *goquery.Selection) bool {
			return strings.TrimSpace(b.Text()) == p.Name
		})
		if button.Length() != 1 || button.AttrOr("name", "") != "persona" || button.AttrOr("value", "") != p.Key || button.AttrOr("id", "") != "persona-"+p.Key {
			t.Errorf("no button named %q with persona=%s", p.Name, p.Key)
			continue
		}
		described := page.Find("#" + button.AttrOr("aria-describedby", "-"))
		if strings.TrimSpace(described.Text()) != p.Description {
			t.Errorf("%s is described by %q, want %q", p.Name, described.Text(), p.Description)
		}
	}
	if page.Find("button#cancel").Text() != "Cancel" {
		t.Error("no Cancel button")
	}

	// The one style block is allowed by its hash, and nothing else is.
	sum := sha256.Sum256([]byte(page.Find("style").Text()))
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q does not allow exactly the page's style", csp)
	}
}

func TestSignInPageRefusesUnknownRequest(t *testing.T) {
	e := newTestEnv(t, "", nil)
	resp, err := http.Get(e.provider.Issuer() + "/login?authRequestID=nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}
