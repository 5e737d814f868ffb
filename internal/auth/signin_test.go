package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/testkit"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"pcsupport/internal/clientauth"
)

const (
	flowClientID = "flow-client"
	// flowSecret has what form-urlencoding and Basic credentials treat specially.
	flowSecret = "s+cr%2Ft:é x="
)

// codeFlowProvider is an OpenID provider for the Manager's whole sign-in, written here from the
// specifications: discovery, keys, a token endpoint that redeems the codes the test hands out
// (authorize is the test's to play) and answers refreshes, and an end_session_endpoint. Like
// ory/hydra, it takes the client's secret only the one way the client is registered for
// (accepts) and refuses the other with invalid_client; its discovery lists advertised (nil
// leaves the member out).
type codeFlowProvider struct {
	*httptest.Server
	key        *rsa.PrivateKey
	advertised []string
	accepts    string // clientauth.SecretBasic or clientauth.SecretPost

	now func() time.Time // the time of the tokens it issues; time.Now unless set before use

	mu             sync.Mutex
	nonces         map[string]string         // by code
	people         map[string]map[string]any // the ID token's claims about who signed in, by code; Ada when none
	idAMR          []string                  // amr of the ID tokens issued next; nil leaves it out
	accessAMR      []string                  // amr of the access tokens issued next; nil leaves it out
	refreshIDToken bool                      // a refresh answers with a new ID token too
	methods        []string                  // how the client authenticated, one per token request
	lastIDToken    string
	issued         int
}

func newCodeFlowProvider(t *testing.T, accepts string, advertised []string) *codeFlowProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &codeFlowProvider{key: key, accepts: accepts, advertised: advertised, now: time.Now, nonces: map[string]string{}, people: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		doc := map[string]any{"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token",
			"jwks_uri": p.URL + "/keys", "end_session_endpoint": p.URL + "/logout", "id_token_signing_alg_values_supported": []string{"RS256"}}
		if p.advertised != nil {
			doc["token_endpoint_auth_methods_supported"] = p.advertised
		}
		_ = json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", p.token)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *codeFlowProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		entraError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	method, id, secret := clientauth.SecretPost, r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	if basicID, basicSecret, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: each half is form-urlencoded.
		method = clientauth.SecretBasic
		id, _ = url.QueryUnescape(basicID)
		secret, _ = url.QueryUnescape(basicSecret)
		if r.PostForm.Has("client_secret") {
			method = "two methods"
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.methods = append(p.methods, method)
	if method != p.accepts || id != flowClientID || secret != flowSecret {
		entraError(w, http.StatusUnauthorized, invalidClientError, fmt.Sprintf("registered for %s; got %s", p.accepts, method))
		return
	}
	now := p.now()
	claims := map[string]any{"iss": p.URL, "sub": "ada", "aud": flowClientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"name": "Ada", "preferred_username": "ada@example.com", "login_hint": "O.ada-hint"}
	answer := map[string]any{"token_type": "Bearer", "expires_in": 3600}
	switch r.PostFormValue("grant_type") {
	case "authorization_code":
		code := r.PostFormValue("code")
		nonce, ok := p.nonces[code]
		delete(p.nonces, code)
		if !ok {
			entraError(w, http.StatusBadRequest, "invalid_grant", "unknown code")
			return
		}
		claims["nonce"] = nonce
		for k, v := range p.people[code] {
			claims[k] = v
		}
		delete(p.people, code)
		answer["id_token"] = p.signLocked(withAMR(claims, p.idAMR))
	case "refresh_token":
		if p.refreshIDToken {
			answer["id_token"] = p.signLocked(withAMR(claims, p.idAMR))
		}
	default:
		entraError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	p.issued++
	answer["access_token"] = p.signLocked(withAMR(map[string]any{"iss": p.URL, "sub": "ada", "aud": "api", "n": p.issued}, p.accessAMR))
	answer["refresh_token"] = fmt.Sprintf("refresh-%d", p.issued)
	if id, ok := answer["id_token"].(string); ok {
		p.lastIDToken = id
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

func withAMR(claims map[string]any, amr []string) map[string]any {
	out := map[string]any{}
	for k, v := range claims {
		out[k] = v
	}
	if amr != nil {
		out["amr"] = amr
	}
	return out
}

func (p *codeFlowProvider) signLocked(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		panic(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return s
}

// authorize plays the provider's sign-in page: it takes the nonce of the authorization URL and
// returns a code for it.
func (p *codeFlowProvider) authorize(authURL string) (code string, err error) {
	return p.authorizeAs(authURL, nil)
}

// authorizeAs is authorize for the person the claims describe (sub, oid, tid, name, ...).
func (p *codeFlowProvider) authorizeAs(authURL string, person map[string]any) (code string, err error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	code = rand.Text()
	p.nonces[code] = u.Query().Get("nonce")
	p.people[code] = person
	return code, nil
}

func (p *codeFlowProvider) seen() (methods []string, lastIDToken string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.methods...), p.lastIDToken
}

// flowManager is a Manager for p, with sessions in files, signing out of the provider too;
// adjust changes its configuration before it is made.
func flowManager(t *testing.T, p *codeFlowProvider, clientAuthMethod string, adjust ...func(*Config)) *Manager {
	t.Helper()
	store, err := sessionstore.NewFileStore(t.TempDir(), sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, testKeys()...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuer: p.URL, ClientID: flowClientID, ClientCredential: clientauth.Secret(flowSecret), ClientAuthMethod: clientAuthMethod,
		RedirectURL: "https://app.example/auth/callback", SignOutOfProvider: true, SignedOutURL: "https://app.example/auth/signed-out",
		Store: store, CookieKeys: testKeys(), Logger: slog.New(slog.DiscardHandler)}
	for _, a := range adjust {
		a(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// signInThrough runs a whole sign-in (start, the provider's answer, the callback) and returns
// the session cookie.
func signInThrough(t *testing.T, m *Manager, p *codeFlowProvider) (*http.Cookie, error) {
	t.Helper()
	start := httptest.NewRecorder()
	authURL, err := m.StartSignIn(start, httptest.NewRequest("GET", "/", nil), "/", SignInOptions{})
	if err != nil {
		return nil, err
	}
	code, err := p.authorize(authURL)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(authURL)
	callback := httptest.NewRequest("GET", "/auth/callback?"+url.Values{"state": {u.Query().Get("state")}, "code": {code}}.Encode(), nil)
	for _, c := range start.Result().Cookies() {
		callback.AddCookie(c)
	}
	finish := httptest.NewRecorder()
	if _, err := m.FinishSignIn(finish, callback); err != nil {
		return nil, err
	}
	for _, c := range finish.Result().Cookies() {
		if c.Name == sessionCookie {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no session cookie after sign-in")
}

// refreshNow renews the session's tokens at once, as after Partner Center refused the access
// token.
func refreshNow(t *testing.T, m *Manager, session *http.Cookie) {
	t.Helper()
	tok, err := m.TokenSource(httptest.NewRecorder(), testkit.RequestWithCookie(session)).Token()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RefreshAfterRejection(httptest.NewRecorder(), testkit.RequestWithCookie(session), tok.AccessToken); err != nil {
		t.Fatalf("refresh: %v", err)
	}
}

// The secret goes the way the provider's discovery lists, client_secret_basic first, unless the
// setting forces one; the code exchange and the refresh both go that way, and a secret with
// "+", "%", ":" and a space arrives intact either way.
func TestClientSecretGoesTheWayTheProviderTakesIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		advertised []string
		accepts    string
		forced     string
	}{
		{"discovery lists none: basic, the default", nil, clientauth.SecretBasic, ""},
		{"basic only", []string{clientauth.SecretBasic}, clientauth.SecretBasic, clientauth.AutoMethod},
		{"post only", []string{clientauth.SecretPost}, clientauth.SecretPost, ""},
		{"Entra ID's list, post first: basic", []string{clientauth.SecretPost, "private_key_jwt", clientauth.SecretBasic}, clientauth.SecretBasic, ""},
		{"both listed, registered for post: forced post", []string{clientauth.SecretBasic, clientauth.SecretPost}, clientauth.SecretPost, clientauth.SecretPost},
		{"post listed, yet forced basic", []string{clientauth.SecretPost}, clientauth.SecretBasic, clientauth.SecretBasic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newCodeFlowProvider(t, tc.accepts, tc.advertised)
			m := flowManager(t, p, tc.forced)
			session, err := signInThrough(t, m, p)
			if err != nil {
				t.Fatalf("sign-in: %v", err)
			}
			refreshNow(t, m, session)
			if methods, _ := p.seen(); !slices.Equal(methods, []string{tc.accepts, tc.accepts}) {
				t.Errorf("the token requests authenticated with %v, want %s twice", methods, tc.accepts)
			}
		})
	}
}

// Forcing a method the provider's registration refuses fails the sign-in with the provider's
// invalid_client, as auto does for a provider that lists both and registered post (ory/hydra):
// the setting is how the operator says so.
func TestClientSecretTheProviderRefuses(t *testing.T) {
	t.Parallel()
	p := newCodeFlowProvider(t, clientauth.SecretPost, []string{clientauth.SecretBasic, clientauth.SecretPost})
	for _, forced := range []string{"", clientauth.SecretBasic} {
		_, err := signInThrough(t, flowManager(t, p, forced), p)
		if err == nil || !strings.Contains(err.Error(), invalidClientError) {
			t.Errorf("forced %q: %v, want the provider's invalid_client", forced, err)
		}
	}
}

// Signing out of the provider names the session by the ID token the provider issued last (as
// ory/hydra, Duende IdentityServer and Connect2id require before they send anyone back): the
// sign-in's, or a refresh's when the refresh brought one; a refresh without one keeps the last.
// logout_hint stays, for Entra ID.
func TestSignOutOfTheProviderSendsTheNewestIDToken(t *testing.T) {
	t.Parallel()
	p := newCodeFlowProvider(t, clientauth.SecretBasic, nil)
	m := flowManager(t, p, "")
	session, err := signInThrough(t, m, p)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	signOut := func() url.Values {
		t.Helper()
		u, err := url.Parse(m.ProviderSignOutURL(testkit.RequestWithCookie(session)))
		if err != nil || u.Host != strings.TrimPrefix(p.URL, "http://") || u.Path != "/logout" {
			t.Fatalf("sign-out URL %v (%v)", u, err)
		}
		return u.Query()
	}
	_, fromSignIn := p.seen()
	if q := signOut(); q.Get("id_token_hint") != fromSignIn || q.Get("logout_hint") != "O.ada-hint" ||
		q.Get("post_logout_redirect_uri") != "https://app.example/auth/signed-out" || q.Get("client_id") != flowClientID {
		t.Errorf("after sign-in: %v; want the sign-in's ID token as id_token_hint", q)
	}

	refreshNow(t, m, session) // the answer has no ID token
	if got := signOut().Get("id_token_hint"); got != fromSignIn {
		t.Errorf("after a refresh without an ID token the hint is %q, want the sign-in's", got)
	}

	p.mu.Lock()
	p.refreshIDToken = true
	p.mu.Unlock()
	refreshNow(t, m, session)
	if _, fromRefresh := p.seen(); fromRefresh == fromSignIn || signOut().Get("id_token_hint") != fromRefresh {
		t.Errorf("after a refresh with an ID token the hint is not the refresh's")
	}
}

// MFA is judged by the ID token's amr whenever it has one, even an empty one, and even after a
// refresh whose tokens say otherwise; the access token's amr counts only when the ID token has
// none (Entra ID v2 ID tokens often leave it out). What is judged is what a later request reads
// back from the session store.
func TestMFAIsReadFromTheIDTokenFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		idAMR, accessAMR []string
		wantMissing      bool
	}{
		{"ID token without MFA, access token with", []string{"pwd"}, []string{"pwd", "mfa"}, true},
		{"ID token with MFA, access token without", []string{"pwd", "mfa"}, []string{"pwd"}, false},
		{"ID token's amr empty, access token with MFA", []string{}, []string{"pwd", "mfa"}, true},
		{"no amr in the ID token, access token with MFA", nil, []string{"pwd", "mfa"}, false},
		{"no amr in the ID token, access token without MFA", nil, []string{"pwd"}, true},
		{"no amr anywhere: Partner Center decides", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newCodeFlowProvider(t, clientauth.SecretBasic, nil)
			p.idAMR, p.accessAMR = tc.idAMR, tc.accessAMR
			m := flowManager(t, p, "")
			session, err := signInThrough(t, m, p)
			if err != nil {
				t.Fatalf("sign-in: %v", err)
			}
			check := func(when string) {
				t.Helper()
				u, err := m.CurrentUser(testkit.RequestWithCookie(session))
				if err != nil || u.MFAMissing() != tc.wantMissing {
					t.Errorf("%s: MFA missing %v (amr %q, %v), want %v", when, u.MFAMissing(), u.AMR, err, tc.wantMissing)
				}
			}
			check("after sign-in")

			// A refresh brings an ID token without amr and an access token that says the opposite.
			p.mu.Lock()
			p.refreshIDToken, p.idAMR, p.accessAMR = true, nil, []string{"pwd", "mfa"}
			if !tc.wantMissing {
				p.accessAMR = []string{"pwd"}
			}
			p.mu.Unlock()
			refreshNow(t, m, session)
			check("after a refresh")
		})
	}
}
