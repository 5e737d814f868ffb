package devstack_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"pcsupport/internal/devidp"
	"pcsupport/internal/devsignin"
	"pcsupport/internal/devstack"
)

const (
	appID       = "app"
	appRedirect = "http://127.0.0.1:9/app/callback" // never served: the test stops at the redirect
	pcScope     = "https://api.partnercenter.microsoft.com/user_impersonation"
	profilePath = "/v1/profiles/support"
)

func start(t *testing.T, opts devstack.Options) *devstack.Stack {
	t.Helper()
	s, err := devstack.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func appClient() []devstack.Client {
	return []devstack.Client{{ID: appID, RedirectURIs: []string{appRedirect}}}
}

// signIn is the code flow of the registered client: the persona chosen on the provider's page,
// the code exchanged with secret.
func signIn(t *testing.T, s *devstack.Stack, persona, secret string) (*oauth2.Token, error) {
	t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, s.ProviderURL)
	if err != nil {
		t.Fatal(err)
	}
	oc := &oauth2.Config{ClientID: appID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: appRedirect,
		Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, pcScope}}
	verifier := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), appRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := devsignin.SignIn(ctx, c, oc.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), persona)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("after choosing %s: %d, Location %q", persona, resp.StatusCode, resp.Header.Get("Location"))
	}
	return oc.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
}

func call(t *testing.T, s *devstack.Stack, method string, tok *oauth2.Token, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.EmulatorURL+profilePath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != nil {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const newProfile = `{"email":"care@contoso-partner.example","telephone":"+1 425 555 0199","website":"www.contoso-partner.example"}`

// Both stand-ins are HTTP services on loopback: the provider's discovery names its own URL,
// the emulator refuses a call without a token and serves its fault injection page.
func TestServicesOnLoopback(t *testing.T) {
	s := start(t, devstack.Options{Clients: appClient()})
	for _, u := range []string{s.ProviderURL, s.EmulatorURL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("URL %s is not on loopback", u)
		}
	}
	if _, err := oidc.NewProvider(context.Background(), s.ProviderURL); err != nil {
		t.Errorf("discovery at %s: %v", s.ProviderURL, err)
	}
	if got := call(t, s, http.MethodGet, nil, ""); got != http.StatusUnauthorized {
		t.Errorf("GET without a token: %d, want 401", got)
	}
	resp, err := http.Get(s.FaultsURL())
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fault injection page %s: %v %v", s.FaultsURL(), resp, err)
	}
	resp.Body.Close()
}

// The client's secret is made at start and is the only one accepted; the emulator knows the
// default personas' roles: the admin may save, the sales agent only read.
func TestDefaultPersonasAndClientSecret(t *testing.T) {
	s := start(t, devstack.Options{Clients: append(appClient(), devstack.Client{ID: "other", RedirectURIs: []string{appRedirect}})})
	if s.Secret(appID) == "" || s.Secret(appID) == s.Secret("other") {
		t.Fatalf("secrets: %q and %q; want two different ones", s.Secret(appID), s.Secret("other"))
	}
	if _, err := signIn(t, s, "admin", s.Secret("other")); err == nil {
		t.Error("the code was exchanged with another client's secret")
	}
	admin, err := signIn(t, s, "admin", s.Secret(appID))
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, s, http.MethodPut, admin, newProfile); got != http.StatusOK {
		t.Errorf("the admin's PUT: %d, want 200", got)
	}
	sales, err := signIn(t, s, "sales", s.Secret(appID))
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, s, http.MethodGet, sales, ""); got != http.StatusOK {
		t.Errorf("the sales agent's GET: %d, want 200", got)
	}
	if got := call(t, s, http.MethodPut, sales, newProfile); got != http.StatusForbidden {
		t.Errorf("the sales agent's PUT: %d, want 403", got)
	}
	if email, _, _ := s.Emulator.Profile(devidp.TenantID); email != "care@contoso-partner.example" {
		t.Errorf("the emulator holds %q after the admin's save", email)
	}
}

// Personas of the caller's own sign in and get their role in their own tenant; tokens live as
// long as asked.
func TestOwnPersonasAndTokenLifetime(t *testing.T) {
	own := devidp.Persona{Key: "own1", ObjectID: "00000000-0000-4000-8000-000000000001", Name: "Owen Own",
		UPN: "owen@partner1.example", TenantID: "00000000-0000-4000-9000-000000000001", MFA: true, Role: "AccountAdmin"}
	s := start(t, devstack.Options{Clients: appClient(), Personas: []devidp.Persona{own}, AccessTokenLifetime: 2 * time.Minute})
	tok, err := signIn(t, s, "own1", s.Secret(appID))
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(tok.Expiry); left < 90*time.Second || left > 2*time.Minute {
		t.Errorf("the token expires in %s, want about 2m", left)
	}
	if got := call(t, s, http.MethodPut, tok, newProfile); got != http.StatusOK {
		t.Errorf("the own-tenant admin's PUT: %d, want 200", got)
	}
	if email, _, _ := s.Emulator.Profile(own.TenantID); email != "care@contoso-partner.example" {
		t.Errorf("the own tenant holds %q", email)
	}
	if email, _, _ := s.Emulator.Profile(devidp.TenantID); email == "care@contoso-partner.example" {
		t.Error("the save landed in the dev tenant")
	}
}

// The emulator counts the connections it accepted; after Close neither service answers.
func TestConnectionsCountedAndClose(t *testing.T) {
	s := start(t, devstack.Options{Clients: appClient()})
	tr := &http.Transport{}
	c := &http.Client{Transport: tr}
	for range 3 {
		resp, err := c.Get(s.EmulatorURL + profilePath)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body) // read to the end, so the connection can be reused
		resp.Body.Close()
	}
	if n := s.EmulatorConnections(); n != 1 {
		t.Errorf("three calls on one kept-alive connection counted %d connections", n)
	}
	tr.CloseIdleConnections()
	s.Close()
	for _, u := range []string{s.ProviderURL + "/.well-known/openid-configuration", s.EmulatorURL + profilePath} {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after Close: %d", u, resp.StatusCode)
		}
	}
}
