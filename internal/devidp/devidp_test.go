package devidp

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

const (
	clientID     = "pcsupport-web"
	clientSecret = "dev-only-secret"
	// redirectURI is the app's callback; nothing listens there, the tests stop at the redirect.
	redirectURI  = "http://127.0.0.1:9/auth/callback"
	pcResource   = "https://api.partnercenter.microsoft.com"
	pcScope      = pcResource + "/user_impersonation"
	defaultState = "state-8f1c"
)

var appScopes = []string{"openid", "profile", "email", "offline_access", pcScope}

// testEnv is a provider on a loopback server, with the app's OAuth2 and OIDC clients and a
// browser that stops where the provider sends it back to the app.
type testEnv struct {
	provider *Provider
	oidc     *oidc.Provider
	oauth    oauth2.Config
	browser  *http.Client
}

func newTestEnv(t *testing.T, issuerPath string, configure func(*Options)) *testEnv {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	opts := Options{
		Issuer:  "http://" + srv.Listener.Addr().String() + issuerPath,
		Clients: []Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}}},
	}
	if configure != nil {
		configure(&opts)
	}
	p, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv.Config.Handler = p
	srv.Start()
	t.Cleanup(srv.Close)

	discovered, err := oidc.NewProvider(t.Context(), p.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	endpoint := discovered.Endpoint()
	// As the client is registered by default: oauth2's guess would try basic, then post, and
	// report the second refusal.
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	return &testEnv{
		provider: p,
		oidc:     discovered,
		oauth: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			Endpoint:     endpoint,
			RedirectURL:  redirectURI,
			Scopes:       appScopes,
		},
		browser: &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirectURI) {
				return http.ErrUseLastResponse
			}
			return nil
		}},
	}
}

// signIn plays the browser: authorize, the sign-in page, the persona's button, back to the app.
// It returns the query the app's callback receives.
func (e *testEnv) signIn(t *testing.T, persona string, opts ...oauth2.AuthCodeOption) url.Values {
	t.Helper()
	page, form := e.openSignInPage(t, e.oauth.AuthCodeURL(defaultState, opts...))
	button := page.Find("button#persona-" + persona)
	if button.Length() != 1 {
		t.Fatalf("no button for persona %q", persona)
	}
	form.Set(button.AttrOr("name", ""), button.AttrOr("value", ""))
	return e.submit(t, page, form)
}

// openSignInPage follows authorize to the sign-in page and returns it with its hidden fields.
func (e *testEnv) openSignInPage(t *testing.T, authURL string) (*goquery.Document, url.Values) {
	t.Helper()
	resp, err := e.browser.Get(authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("authorize led to %d %s at %s, want the sign-in page", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Request.URL)
	}
	page, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatalf("parse sign-in page: %v", err)
	}
	form := url.Values{}
	page.Find(`form input[type="hidden"]`).Each(func(_ int, in *goquery.Selection) {
		form.Set(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	return page, form
}

// submit posts the sign-in form and returns the query of the redirect to the app.
func (e *testEnv) submit(t *testing.T, page *goquery.Document, form url.Values) url.Values {
	t.Helper()
	action := page.Find("form").AttrOr("action", "")
	resp, err := e.browser.PostForm(action, form)
	if err != nil {
		t.Fatalf("post sign-in form: %v", err)
	}
	resp.Body.Close()
	return appCallback(t, resp)
}

// appCallback is the query of the redirect to the app's redirect URI that resp must be.
func appCallback(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	location := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(location, redirectURI+"?") {
		t.Fatalf("got %d to %q, want a redirect to the app", resp.StatusCode, location)
	}
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// tokens signs persona in with PKCE and a nonce, and redeems the code.
func (e *testEnv) tokens(t *testing.T, persona string) (*oauth2.Token, string) {
	t.Helper()
	verifier, nonce := oauth2.GenerateVerifier(), "nonce-"+persona
	got := e.signIn(t, persona, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	if got.Get("state") != defaultState || got.Get("code") == "" {
		t.Fatalf("callback query %v, want a code and state %q", got, defaultState)
	}
	tok, err := e.oauth.Exchange(t.Context(), got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok, nonce
}

type accessTokenClaims struct {
	Issuer            string   `json:"iss"`
	Subject           string   `json:"sub"`
	Audience          []string `json:"aud"`
	Expiry            int64    `json:"exp"`
	IssuedAt          int64    `json:"iat"`
	NotBefore         int64    `json:"nbf"`
	TenantID          string   `json:"tid"`
	ObjectID          string   `json:"oid"`
	Name              string   `json:"name"`
	UPN               string   `json:"upn"`
	PreferredUsername string   `json:"preferred_username"`
	AMR               []string `json:"amr"`
	Scope             string   `json:"scp"`
	IDType            string   `json:"idtyp"`
}

// accessClaims checks the access token's signature against the published JWKS and against
// KeySet, and returns its claims.
func (e *testEnv) accessClaims(t *testing.T, token string) accessTokenClaims {
	t.Helper()
	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := e.oidc.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	payload, err := oidc.NewRemoteKeySet(t.Context(), disc.JWKSURI).VerifySignature(t.Context(), token)
	if err != nil {
		t.Fatalf("access token signature against the JWKS: %v", err)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(e.provider.KeySet().Keys[0]); err != nil {
		t.Fatalf("access token signature against KeySet: %v", err)
	}
	if kid := jws.Signatures[0].Header.KeyID; kid != e.provider.KeySet().Keys[0].KeyID {
		t.Errorf("kid %q, want KeySet's %q", kid, e.provider.KeySet().Keys[0].KeyID)
	}
	var c accessTokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("access token claims: %v", err)
	}
	return c
}

func persona(t *testing.T, key string) Persona {
	t.Helper()
	i := slices.IndexFunc(Personas(), func(p Persona) bool { return p.Key == key })
	if i < 0 {
		t.Fatalf("no persona %q", key)
	}
	return Personas()[i]
}

func (e *testEnv) refresh(t *testing.T, refreshToken string) *oauth2.Token {
	t.Helper()
	tok, err := e.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return tok
}

func wantOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Errorf("got error %v, want OAuth error %q", err, code)
	}
}

func TestDiscovery(t *testing.T) {
	e := newTestEnv(t, "", nil)
	var d struct {
		Issuer          string   `json:"issuer"`
		Authorization   string   `json:"authorization_endpoint"`
		Token           string   `json:"token_endpoint"`
		Userinfo        string   `json:"userinfo_endpoint"`
		JWKS            string   `json:"jwks_uri"`
		EndSession      string   `json:"end_session_endpoint"`
		Introspection   string   `json:"introspection_endpoint"`
		CodeChallenge   []string `json:"code_challenge_methods_supported"`
		TokenAuth       []string `json:"token_endpoint_auth_methods_supported"`
		GrantTypes      []string `json:"grant_types_supported"`
		SigningAlgs     []string `json:"id_token_signing_alg_values_supported"`
		ResponseTypes   []string `json:"response_types_supported"`
		ScopesSupported []string `json:"scopes_supported"`
	}
	if err := e.oidc.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != e.provider.Issuer() {
		t.Errorf("issuer %q, want %q", d.Issuer, e.provider.Issuer())
	}
	for name, endpoint := range map[string]string{"authorization": d.Authorization, "token": d.Token, "userinfo": d.Userinfo, "jwks": d.JWKS, "end_session": d.EndSession} {
		if !strings.HasPrefix(endpoint, e.provider.Issuer()+"/") {
			t.Errorf("%s endpoint %q is not under the issuer", name, endpoint)
		}
	}
	if d.Introspection != "" {
		t.Errorf("introspection endpoint %q advertised, want none", d.Introspection)
	}
	for _, want := range []struct {
		name string
		got  []string
		item string
	}{
		{"code_challenge_methods_supported", d.CodeChallenge, "S256"},
		{"token_endpoint_auth_methods_supported", d.TokenAuth, "client_secret_basic"},
		{"grant_types_supported", d.GrantTypes, "authorization_code"},
		{"grant_types_supported", d.GrantTypes, "refresh_token"},
		{"id_token_signing_alg_values_supported", d.SigningAlgs, "RS256"},
		{"response_types_supported", d.ResponseTypes, "code"},
	} {
		if !slices.Contains(want.got, want.item) {
			t.Errorf("%s = %v, want it to contain %q", want.name, want.got, want.item)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"no issuer":                {Clients: []Client{{ID: "a", RedirectURIs: []string{redirectURI}}}},
		"no clients":               {Issuer: "http://127.0.0.1:1"},
		"no redirect":              {Issuer: "http://127.0.0.1:1", Clients: []Client{{ID: "a"}}},
		"same persona":             {Issuer: "http://127.0.0.1:1", Clients: []Client{{ID: "a", RedirectURIs: []string{redirectURI}}}, Personas: append(Personas(), Personas()[0])},
		"secret method, no secret": {Issuer: "http://127.0.0.1:1", Clients: []Client{{ID: "a", SecretMethod: "client_secret_post", RedirectURIs: []string{redirectURI}}}},
		"unknown secret method":    {Issuer: "http://127.0.0.1:1", Clients: []Client{{ID: "a", Secret: "s", SecretMethod: "client_secret_jwt", RedirectURIs: []string{redirectURI}}}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}
