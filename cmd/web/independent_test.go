package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"pcsupport/internal/pcemu"
)

// fakeProvider is a small OpenID Connect provider written from the specifications (discovery,
// JWKS, authorization code with PKCE, ES256, a string audience), with no code in common with the
// development provider. It signs in one user without asking. Like ory/hydra, it takes the
// client's secret one way only (accepts; client_secret_post unless a test says otherwise),
// refusing the other with invalid_client, and its discovery lists advertised (nil leaves the
// member out).
type fakeProvider struct {
	*httptest.Server
	key        *ecdsa.PrivateKey
	wrongNonce bool
	advertised []string
	accepts    string
	secret     string

	mu      sync.Mutex
	codes   map[string]fakeCode
	methods []string // how the client authenticated, one per token request
}

type fakeCode struct{ nonce, challenge, redirect string }

const (
	fakeClientID, fakeSecret = "independent-client", "independent-secret"
	fakeTenant, fakeUser     = "7d2b6f4e-0000-4000-8000-000000000001", "7d2b6f4e-0000-4000-8000-0000000000aa"
)

func newFakeProvider(t *testing.T) *fakeProvider {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := &fakeProvider{key: key, codes: map[string]fakeCode{}, advertised: []string{"client_secret_post"}, accepts: "client_secret_post", secret: fakeSecret}
	mux := http.NewServeMux()
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		doc := map[string]any{
			"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token",
			"jwks_uri": p.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256"},
			"code_challenge_methods_supported": []string{"S256"},
		}
		if p.advertised != nil {
			doc["token_endpoint_auth_methods_supported"] = p.advertised
		}
		writeJSON(w, doc)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != fakeClientID || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" ||
			!strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := rand.Text()
		p.mu.Lock()
		p.codes[code] = fakeCode{q.Get("nonce"), q.Get("code_challenge"), q.Get("redirect_uri")}
		p.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		method, clientID, secret := clientAuthentication(r)
		p.mu.Lock()
		p.methods = append(p.methods, method)
		p.mu.Unlock()
		if method != p.accepts || clientID != fakeClientID || secret != p.secret {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]string{"error": "invalid_client"})
			return
		}
		p.mu.Lock()
		c, ok := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || c.redirect != r.PostFormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		nonce := c.nonce
		if p.wrongNonce {
			nonce = "not-the-nonce-that-was-sent"
		}
		now := time.Now()
		common := map[string]any{"iss": p.URL, "sub": fakeUser, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"oid": fakeUser, "tid": fakeTenant, "name": "Ines Independent", "preferred_username": "ines@independent.example"}
		id := merge(common, map[string]any{"aud": fakeClientID, "nonce": nonce})
		access := merge(common, map[string]any{"aud": pcemu.AudienceURL, "amr": []string{"pwd", "mfa"}, "scp": "user_impersonation"})
		writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3600, "id_token": p.sign(t, id), "access_token": p.sign(t, access)})
	})
	return p
}

// clientAuthentication says how a token request authenticated the client, and with what: Basic
// credentials are each form-urlencoded (RFC 6749 §2.3.1), and a request may use one method only.
func clientAuthentication(r *http.Request) (method, clientID, secret string) {
	if id, secret, ok := r.BasicAuth(); ok {
		if r.PostForm.Has("client_secret") {
			return "two methods", "", ""
		}
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		return "client_secret_basic", id, secret
	}
	return "client_secret_post", r.PostFormValue("client_id"), r.PostFormValue("client_secret")
}

func (p *fakeProvider) seenMethods() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.methods...)
}

func (p *fakeProvider) sign(t *testing.T, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// freeLoopbackAddr finds a port to give the app, whose public URL must be known before it starts.
func freeLoopbackAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startAgainstIndependent runs the app in production mode against the independent provider and
// an emulator that trusts its key (and answers with a byte order mark, as some real responses do).
func startAgainstIndependent(t *testing.T, idp *fakeProvider, extra ...string) (*testApp, *pcemu.Emulator) {
	emu := pcemu.New(pcemu.Options{KeySet: &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&idp.key.PublicKey}}, Issuers: []string{idp.URL}, BOM: true})
	emu.AssignRole(fakeTenant, fakeUser, pcemu.RoleAccountAdmin)
	pc := httptest.NewServer(emu)
	t.Cleanup(pc.Close)
	addr := freeLoopbackAddr(t)
	keys := base64.StdEncoding.EncodeToString(make32()) + " " + base64.StdEncoding.EncodeToString(make32())
	app := runApp(t, append([]string{"--listen", addr, "--public-url", "http://" + addr + "/", "--oidc-issuer", idp.URL,
		"--client-id", fakeClientID, "--client-secret", idp.secret, "--session-keys", keys,
		"--partner-center-url", pc.URL, "--data-dir", t.TempDir(), "--log-format", "text"}, extra...)...)
	return app, emu
}

func make32() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// The same binary, configured for another OpenID Connect provider, signs in, loads and saves.
func TestWholePathWithAnIndependentProvider(t *testing.T) {
	t.Parallel()
	idp := newFakeProvider(t)
	app, emu := startAgainstIndependent(t, idp)
	b := newBrowser(t)
	resp, doc := b.get(app.url) // sign-in needs no page: the provider answers at once
	if resp.Request.URL.String() != app.url || doc.Find(`input[name="telephone"]`).Length() != 1 {
		t.Fatalf("did not reach the form: %d at %s\n%s", resp.StatusCode, resp.Request.URL, html(doc))
	}
	if !strings.Contains(text(doc.Find("header")), "Ines Independent") {
		t.Errorf("header: %q", text(doc.Find("header")))
	}
	form := formValues(doc)
	form.Set("telephone", "+33 1 23 45 67 89")
	resp, doc = b.post(app.url+"save", form)
	if !strings.Contains(text(doc.Find("#notice")), "Saved") {
		t.Fatalf("save: %d %q", resp.StatusCode, text(doc.Find("main")))
	}
	if _, tel, _ := emu.Profile(fakeTenant); tel != "+33 1 23 45 67 89" {
		t.Errorf("emulator holds %q", tel)
	}
}

// An ID token whose nonce is not the one sent is refused: no session is made.
func TestWrongNonceIsRefused(t *testing.T) {
	t.Parallel()
	idp := newFakeProvider(t)
	idp.wrongNonce = true
	app, emu := startAgainstIndependent(t, idp)
	b := newBrowser(t)
	resp, doc := b.get(app.url)
	if resp.StatusCode == http.StatusOK || !strings.Contains(text(doc.Find("main")), "Sign-in could not be completed") {
		t.Fatalf("wrong nonce: %d %q", resp.StatusCode, text(doc.Find("main")))
	}
	if !strings.Contains(app.logs.String(), "nonce") {
		t.Error("the log does not say why")
	}
	if s := emu.Stats(); s.Gets+s.Puts+s.Refused != 0 {
		t.Error("Partner Center was called without a valid sign-in")
	}
}

// The app sends its secret the way the provider takes it: as its discovery lists,
// client_secret_basic first (and when it lists none), or as --client-auth-method forces, for a
// provider that lists both yet registered the app for one (as ory/hydra does). The secret holds
// what form-urlencoding and Basic credentials treat specially.
func TestIndependentProviderTakesTheSecretOneWay(t *testing.T) {
	t.Parallel()
	const basic, post = "client_secret_basic", "client_secret_post"
	for _, tc := range []struct {
		name       string
		advertised []string
		accepts    string
		args       []string
	}{
		{"discovery lists basic", []string{basic}, basic, nil},
		{"discovery lists post", []string{post}, post, nil},
		{"discovery lists none", nil, basic, nil},
		{"both listed, registered for post, post forced", []string{basic, post}, post, []string{"--client-auth-method", post}},
		{"post listed, basic forced", []string{post}, basic, []string{"--client-auth-method", basic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idp := newFakeProvider(t)
			idp.advertised, idp.accepts, idp.secret = tc.advertised, tc.accepts, "independent+secret%2F:with space"
			app, _ := startAgainstIndependent(t, idp, tc.args...)
			resp, doc := newBrowser(t).get(app.url)
			if resp.Request.URL.String() != app.url || doc.Find(`input[name="telephone"]`).Length() != 1 {
				t.Fatalf("did not reach the form: %d at %s %q", resp.StatusCode, resp.Request.URL, text(doc.Find("main")))
			}
			if got := idp.seenMethods(); !slices.Equal(got, []string{tc.accepts}) {
				t.Errorf("the token requests used %v, want %s", got, tc.accepts)
			}
			if !strings.Contains(app.logs.String(), "client secret sent as "+tc.accepts) {
				t.Errorf("the log does not say the secret is sent as %s", tc.accepts)
			}
		})
	}
}
