package devidp

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"pcsupport/internal/clientauth"
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

func TestSignInIssuesEntraShapedTokens(t *testing.T) {
	for _, tc := range []struct {
		persona string
		amr     []string
	}{
		{"admin", []string{"pwd", "mfa"}},
		{"sales", []string{"pwd", "mfa"}},
		{"nomfa", []string{"pwd"}},
	} {
		t.Run(tc.persona, func(t *testing.T) {
			e := newTestEnv(t, "", nil)
			p := persona(t, tc.persona)
			tok, nonce := e.tokens(t, tc.persona)

			rawID, _ := tok.Extra("id_token").(string)
			idToken, err := e.oidc.Verifier(&oidc.Config{ClientID: clientID}).Verify(t.Context(), rawID)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idToken.Nonce != nonce {
				t.Errorf("ID token nonce %q, want %q", idToken.Nonce, nonce)
			}
			if !slices.Equal(idToken.Audience, []string{clientID}) {
				t.Errorf("ID token aud %v, want only the client id", idToken.Audience)
			}
			if idToken.Subject != p.ObjectID {
				t.Errorf("ID token sub %q, want %q", idToken.Subject, p.ObjectID)
			}
			if time.Until(idToken.Expiry) < 59*time.Minute {
				t.Errorf("ID token expires at %v, want in an hour", idToken.Expiry)
			}
			var id struct {
				Name              string   `json:"name"`
				PreferredUsername string   `json:"preferred_username"`
				Email             string   `json:"email"`
				OID               string   `json:"oid"`
				TID               string   `json:"tid"`
				AMR               []string `json:"amr"`
			}
			if err := idToken.Claims(&id); err != nil {
				t.Fatal(err)
			}
			if id.Name != p.Name || id.PreferredUsername != p.UPN || id.Email != p.UPN || id.OID != p.ObjectID || id.TID != TenantID || !slices.Equal(id.AMR, tc.amr) {
				t.Errorf("ID token claims %+v, want those of %+v with amr %v", id, p, tc.amr)
			}

			at := e.accessClaims(t, tok.AccessToken)
			want := accessTokenClaims{
				Issuer: e.provider.Issuer(), Subject: p.ObjectID, Audience: []string{pcResource},
				TenantID: TenantID, ObjectID: p.ObjectID, Name: p.Name, UPN: p.UPN, PreferredUsername: p.UPN,
				AMR: tc.amr, Scope: "user_impersonation", IDType: "user",
				Expiry: at.Expiry, IssuedAt: at.IssuedAt, NotBefore: at.NotBefore,
			}
			if !equalJSON(at, want) {
				t.Errorf("access token claims\n got %+v\nwant %+v", at, want)
			}
			if at.Expiry-at.IssuedAt != 3600 || at.NotBefore == 0 {
				t.Errorf("access token iat %d nbf %d exp %d, want an hour's life", at.IssuedAt, at.NotBefore, at.Expiry)
			}
			if tok.ExpiresIn != 3600 {
				t.Errorf("expires_in %d, want 3600", tok.ExpiresIn)
			}
			if tok.RefreshToken == "" {
				t.Error("no refresh token, want one for offline_access")
			}

			info, err := e.oidc.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if info.Subject != p.ObjectID || info.Email != p.UPN {
				t.Errorf("userinfo %+v, want %s", info, p.UPN)
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestIssuerWithPath(t *testing.T) {
	e := newTestEnv(t, "/"+TenantID+"/v2.0", nil)
	tok, _ := e.tokens(t, "admin")
	rawID, _ := tok.Extra("id_token").(string)
	if _, err := e.oidc.Verifier(&oidc.Config{ClientID: clientID}).Verify(t.Context(), rawID); err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if iss := e.accessClaims(t, tok.AccessToken).Issuer; iss != e.provider.Issuer() {
		t.Errorf("access token iss %q, want %q", iss, e.provider.Issuer())
	}
}

// The client is registered for one way of sending its secret, as ory/hydra registers one: the
// other way is refused with invalid_client, the right secret notwithstanding, for the code and
// for a refresh. Discovery lists exactly the method accepted.
func TestClientSecretOnlyAsRegistered(t *testing.T) {
	const secret = "dev+secret%2F:with space" // decoded from Basic as RFC 6749 §2.3.1 says
	styles := map[string]oauth2.AuthStyle{"client_secret_basic": oauth2.AuthStyleInHeader, "client_secret_post": oauth2.AuthStyleInParams}
	for _, tc := range []struct{ registered, accepted string }{
		{"", "client_secret_basic"},
		{"client_secret_basic", "client_secret_basic"},
		{"client_secret_post", "client_secret_post"},
	} {
		t.Run(tc.accepted+" registered as "+cmp.Or(tc.registered, "the default"), func(t *testing.T) {
			e := newTestEnv(t, "", func(o *Options) { o.Clients[0].Secret, o.Clients[0].SecretMethod = secret, tc.registered })
			if got := discoveredAuthMethods(t, e); !slices.Equal(got, []string{tc.accepted}) {
				t.Errorf("token_endpoint_auth_methods_supported %v, want [%s]", got, tc.accepted)
			}
			e.oauth.ClientSecret = secret
			for method, style := range styles {
				e.oauth.Endpoint.AuthStyle = style
				tok, err := e.redeemCode(t)
				if method != tc.accepted {
					wantOAuthError(t, err, "invalid_client")
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", method, err)
				}
				for other, otherStyle := range styles {
					if other != method {
						e.oauth.Endpoint.AuthStyle = otherStyle
						_, err := e.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
						wantOAuthError(t, err, "invalid_client")
						e.oauth.Endpoint.AuthStyle = style
					}
				}
				e.refresh(t, tok.RefreshToken)
				e.oauth.ClientSecret = "wrong"
				_, err = e.redeemCode(t)
				wantOAuthError(t, err, "invalid_client")
				e.oauth.ClientSecret = secret
			}
		})
	}
}

// redeemCode signs in as admin and redeems the code with e.oauth as it stands.
func (e *testEnv) redeemCode(t *testing.T) (*oauth2.Token, error) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	got := e.signIn(t, "admin", oauth2.S256ChallengeOption(verifier))
	return e.oauth.Exchange(t.Context(), got.Get("code"), oauth2.VerifierOption(verifier))
}

func discoveredAuthMethods(t *testing.T, e *testEnv) []string {
	t.Helper()
	var d struct {
		TokenAuth []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := e.oidc.Claims(&d); err != nil {
		t.Fatal(err)
	}
	return d.TokenAuth
}

// Discovery lists the methods of the registered clients and no other, so that a client reading
// it picks one that works.
func TestDiscoveryListsTheRegisteredMethods(t *testing.T) {
	cert, _, err := clientauth.SelfSigned("pcsupport dev", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		clients []Client
		want    []string
	}{
		"a certificate":            {[]Client{{ID: clientID, Certificate: cert, RedirectURIs: []string{redirectURI}}}, []string{"private_key_jwt"}},
		"a public client":          {[]Client{{ID: clientID, RedirectURIs: []string{redirectURI}}}, []string{"none"}},
		"post and a certificate":   {[]Client{{ID: clientID, Secret: "s", SecretMethod: "client_secret_post", RedirectURIs: []string{redirectURI}}, {ID: "b", Certificate: cert, RedirectURIs: []string{redirectURI}}}, []string{"client_secret_post", "private_key_jwt"}},
		"basic and post, one each": {[]Client{{ID: clientID, Secret: "s", SecretMethod: "client_secret_post", RedirectURIs: []string{redirectURI}}, {ID: "b", Secret: "t", RedirectURIs: []string{redirectURI}}}, []string{"client_secret_basic", "client_secret_post"}},
	} {
		e := newTestEnv(t, "", func(o *Options) { o.Clients = tc.clients })
		if got := discoveredAuthMethods(t, e); !slices.Equal(got, tc.want) {
			t.Errorf("%s: token_endpoint_auth_methods_supported %v, want %v", name, got, tc.want)
		}
	}
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	e := newTestEnv(t, "", nil)
	e.oauth.Scopes = []string{"openid", "profile", pcScope}
	tok, _ := e.tokens(t, "admin")
	if tok.RefreshToken != "" {
		t.Error("refresh token issued without offline_access")
	}
}

func TestAudienceIsClientWithoutResourceScope(t *testing.T) {
	e := newTestEnv(t, "", nil)
	e.oauth.Scopes = []string{"openid", "profile"}
	tok, _ := e.tokens(t, "admin")
	if at := e.accessClaims(t, tok.AccessToken); !slices.Equal(at.Audience, []string{clientID}) || at.Scope != "" {
		t.Errorf("aud %v scp %q, want the client id and no scp", at.Audience, at.Scope)
	}
}

func TestRefreshRotatesTheRefreshToken(t *testing.T) {
	e := newTestEnv(t, "", func(o *Options) {
		o.AccessTokenLifetime = 5 * time.Second
		o.IDTokenLifetime = 2 * time.Minute
	})
	first, _ := e.tokens(t, "admin")
	if first.ExpiresIn != 5 {
		t.Errorf("expires_in %d, want AccessTokenLifetime 5", first.ExpiresIn)
	}
	if at := e.accessClaims(t, first.AccessToken); at.Expiry-at.IssuedAt != 5 {
		t.Errorf("access token lives %ds, want 5", at.Expiry-at.IssuedAt)
	}

	second := e.refresh(t, first.RefreshToken)
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh returned refresh token %q, want a new one", second.RefreshToken)
	}
	before, after := e.accessClaims(t, first.AccessToken), e.accessClaims(t, second.AccessToken)
	after.Expiry, after.IssuedAt, after.NotBefore = before.Expiry, before.IssuedAt, before.NotBefore
	if !equalJSON(before, after) {
		t.Errorf("refreshed access token claims\n got %+v\nwant %+v", after, before)
	}
	rawID, _ := second.Extra("id_token").(string)
	idToken, err := e.oidc.Verifier(&oidc.Config{ClientID: clientID}).Verify(t.Context(), rawID)
	if err != nil {
		t.Fatalf("verify refreshed ID token: %v", err)
	}
	if life := time.Until(idToken.Expiry); life > 2*time.Minute || life < time.Minute {
		t.Errorf("refreshed ID token expires in %v, want IDTokenLifetime 2m", life)
	}

	_, err = e.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	wantOAuthError(t, err, "invalid_grant")
	e.refresh(t, second.RefreshToken) // the new one still works

	if got, want := e.provider.Stats(), (Stats{SignIns: 1, CodeExchanges: 1, Refreshes: 2, RefusedRefreshes: 1}); got != want {
		t.Errorf("Stats %+v, want %+v", got, want)
	}
}

func (e *testEnv) refresh(t *testing.T, refreshToken string) *oauth2.Token {
	t.Helper()
	tok, err := e.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return tok
}

func TestRevokeRefreshTokens(t *testing.T) {
	e := newTestEnv(t, "", nil)
	admin, _ := e.tokens(t, "admin")
	sales, _ := e.tokens(t, "sales")

	e.provider.RevokeRefreshTokens(persona(t, "admin").ObjectID)

	_, err := e.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: admin.RefreshToken}).Token()
	wantOAuthError(t, err, "invalid_grant")
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && !strings.HasPrefix(re.ErrorDescription, "AADSTS700082") {
		t.Errorf("error_description %q, want AADSTS700082", re.ErrorDescription)
	}
	e.refresh(t, sales.RefreshToken)

	if got, want := e.provider.Stats(), (Stats{SignIns: 2, CodeExchanges: 2, Refreshes: 1, RefusedRefreshes: 1}); got != want {
		t.Errorf("Stats %+v, want %+v", got, want)
	}
}

func TestCodeExchangeRefusals(t *testing.T) {
	e := newTestEnv(t, "", nil)
	exchange := func(code string, opts ...oauth2.AuthCodeOption) error {
		_, err := e.oauth.Exchange(t.Context(), code, opts...)
		return err
	}

	t.Run("wrong verifier", func(t *testing.T) {
		got := e.signIn(t, "admin", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, exchange(got.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())), "invalid_grant")
	})
	t.Run("no verifier", func(t *testing.T) {
		got := e.signIn(t, "admin", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, exchange(got.Get("code")), "invalid_request")
	})
	t.Run("code used twice", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		got := e.signIn(t, "admin", oauth2.S256ChallengeOption(verifier))
		if err := exchange(got.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("first exchange: %v", err)
		}
		wantOAuthError(t, exchange(got.Get("code"), oauth2.VerifierOption(verifier)), "invalid_grant")
	})
	t.Run("unknown client", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		got := e.signIn(t, "admin", oauth2.S256ChallengeOption(verifier))
		other := e.oauth
		other.ClientID = "someone-else"
		_, err := other.Exchange(t.Context(), got.Get("code"), oauth2.VerifierOption(verifier))
		wantOAuthError(t, err, "invalid_client")
	})
	t.Run("unknown code", func(t *testing.T) {
		wantOAuthError(t, exchange("not-a-code", oauth2.VerifierOption(oauth2.GenerateVerifier())), "invalid_grant")
	})
}

func wantOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Errorf("got error %v, want OAuth error %q", err, code)
	}
}

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

// Sign-out follows post_logout_redirect_uri only with an ID token issued to the client
// (id_token_hint), even an expired one, as ory/hydra, Duende IdentityServer and Connect2id do;
// otherwise it answers an error, and sends no one anywhere.
func TestEndSessionRedirectsOnlyWithTheClientsIDToken(t *testing.T) {
	const otherID, otherSecret = "other-app", "other-secret"
	e := newTestEnv(t, "", func(o *Options) {
		o.IDTokenLifetime = time.Second
		o.Clients = append(o.Clients, Client{ID: otherID, Secret: otherSecret, RedirectURIs: []string{redirectURI}})
	})
	tok, _ := e.tokens(t, "admin")
	hint, _ := tok.Extra("id_token").(string)
	app := e.oauth
	e.oauth.ClientID, e.oauth.ClientSecret = otherID, otherSecret
	otherTok, _ := e.tokens(t, "admin")
	otherHint, _ := otherTok.Extra("id_token").(string)
	e.oauth = app
	var d struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := e.oidc.Claims(&d); err != nil {
		t.Fatal(err)
	}
	const back = "http://127.0.0.1:9/" // registered: the origin of the redirect URI
	endSession := func(q url.Values) (int, string) {
		t.Helper()
		noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirects.Get(d.EndSession + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}

	for _, tc := range []struct {
		name string
		q    url.Values
		want string // where the browser is sent; "" for an error and no redirect
	}{
		{"the client's ID token", url.Values{"id_token_hint": {hint}, "client_id": {clientID}, "post_logout_redirect_uri": {back}, "state": {"bye"}}, back + "?state=bye"},
		{"no id_token_hint", url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {back}}, ""},
		{"another client's ID token", url.Values{"id_token_hint": {otherHint}, "client_id": {clientID}, "post_logout_redirect_uri": {back}}, ""},
		{"a forged ID token", url.Values{"id_token_hint": {hint[:strings.LastIndex(hint, ".")+1] + "AAAA"}, "post_logout_redirect_uri": {back}}, ""},
		{"an unregistered address", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://127.0.0.1:9/elsewhere"}}, ""},
		{"nowhere asked for", url.Values{}, e.provider.Issuer() + signedOutPath},
	} {
		status, location := endSession(tc.q)
		if location != tc.want || tc.want == "" && status != http.StatusBadRequest {
			t.Errorf("%s: %d to %q, want %q", tc.name, status, location, cmp.Or(tc.want, "400 and no redirect"))
		}
	}
	time.Sleep(2 * time.Second) // past the ID token's exp
	if _, location := endSession(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {back}}); location != back {
		t.Errorf("an expired ID token of the client: sent to %q, want %q", location, back)
	}
	if got := e.provider.Stats().SignOuts; got != 2 {
		t.Errorf("Stats.SignOuts %d, want the 2 sign-outs that named the person", got)
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

func TestResourceScope(t *testing.T) {
	for scope, want := range map[string][2]string{
		pcScope: {pcResource, "user_impersonation"},
		"https://partner.partnercenterapi.microsoftonline.cn/user_impersonation": {"https://partner.partnercenterapi.microsoftonline.cn", "user_impersonation"},
		"api://6e1f/access_as_user": {"api://6e1f", "access_as_user"},
		"openid":                    {},
		"https://example.com":       {},
		"https://example.com/":      {},
	} {
		resource, permission, _ := resourceScope(scope)
		if [2]string{resource, permission} != want {
			t.Errorf("resourceScope(%q) = %q, %q, want %q", scope, resource, permission, want)
		}
	}
}
