package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/testkit"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"pcsupport/internal/clientauth"
)

const (
	entraClientID      = "3f0e2c1a-0000-4000-8000-00000000c1d0"
	federatedIssuer    = "https://oidc.aks.example/11111111/"
	federatedSubject   = "system:serviceaccount:pcsupport:web"
	federatedAudience  = "api://AzureADTokenExchange"
	invalidClientError = "invalid_client"
)

// entraTokenEndpoint is a token endpoint written here from Entra ID's documentation, with no
// code in common with internal/clientauth or the development provider. It accepts a certificate
// assertion only if the certificate is registered (x5t#S256), the signature is its key's, iss
// and sub are the client, aud is this token endpoint, it has not expired and its jti is new; a
// federated assertion only if the trusted issuer signed it for the registered subject and
// audience. It answers the refresh grant.
type entraTokenEndpoint struct {
	*httptest.Server
	registered   map[string]*x509.Certificate // by base64url SHA-256 thumbprint
	federatedKey *rsa.PublicKey

	mu         sync.Mutex
	seenJTI    map[string]bool
	assertions []string // accepted, in order
	lastForm   url.Values
	issued     int
}

func newEntraTokenEndpoint(t *testing.T, registered ...*x509.Certificate) *entraTokenEndpoint {
	e := &entraTokenEndpoint{registered: map[string]*x509.Certificate{}, seenJTI: map[string]bool{}}
	for _, c := range registered {
		sum := sha256.Sum256(c.Raw)
		e.registered[base64.RawURLEncoding.EncodeToString(sum[:])] = c
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": e.URL, "authorization_endpoint": e.URL + "/authorize",
			"token_endpoint": e.URL + "/oauth2/v2.0/token", "jwks_uri": e.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("POST /oauth2/v2.0/token", e.token)
	e.Server = httptest.NewServer(mux)
	t.Cleanup(e.Close)
	return e
}

func (e *entraTokenEndpoint) tokenURL() string { return e.URL + "/oauth2/v2.0/token" }

func (e *entraTokenEndpoint) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastForm = r.PostForm
	if _, _, basic := r.BasicAuth(); basic || r.PostForm.Has("client_secret") ||
		r.PostFormValue("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		entraError(w, http.StatusUnauthorized, invalidClientError, "AADSTS7000218: client_assertion expected")
		return
	}
	assertion := r.PostFormValue("client_assertion")
	if err := e.checkAssertion(assertion, r.PostFormValue("client_id")); err != nil {
		entraError(w, http.StatusUnauthorized, invalidClientError, err.Error())
		return
	}
	if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") == "" {
		entraError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70000")
		return
	}
	e.assertions = append(e.assertions, assertion)
	e.issued++
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("access-%d", e.issued),
		"refresh_token": fmt.Sprintf("refresh-%d", e.issued), "token_type": "Bearer", "expires_in": 3600})
}

func (e *entraTokenEndpoint) checkAssertion(assertion, clientID string) error {
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256})
	if err != nil {
		return errors.New("AADSTS50027: invalid JWT")
	}
	var c jwt.Claims
	if e.federatedKey != nil {
		if err := tok.Claims(e.federatedKey, &c); err != nil {
			return errors.New("AADSTS700211: federated token signature")
		}
		if clientID != entraClientID || c.Issuer != federatedIssuer || c.Subject != federatedSubject || !c.Audience.Contains(federatedAudience) {
			return errors.New("AADSTS70021: no matching federated identity record")
		}
		return c.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, 0)
	}
	thumb, _ := tok.Headers[0].ExtraHeaders["x5t#S256"].(string)
	cert, ok := e.registered[thumb]
	if !ok {
		return errors.New("AADSTS700027: the certificate with identifier used to sign the client assertion is not registered on application")
	}
	if err := tok.Claims(cert.PublicKey, &c); err != nil {
		return errors.New("AADSTS700027: signature verification failed")
	}
	if c.Issuer != entraClientID || c.Subject != entraClientID || (clientID != "" && clientID != entraClientID) {
		return errors.New("AADSTS700021: client assertion application identifier does not match client_id")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{e.tokenURL()}, Time: time.Now()}, 0); err != nil {
		return fmt.Errorf("AADSTS700024: client assertion is not within its valid time range or audience: %v", err)
	}
	if c.ID == "" || e.seenJTI[c.ID] {
		return errors.New("AADSTS700023: the client assertion was replayed")
	}
	e.seenJTI[c.ID] = true
	return nil
}

func entraError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

func (e *entraTokenEndpoint) accepted() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.assertions...)
}

func managerWith(t *testing.T, issuer string, credential ClientCredential) (*Manager, *http.Cookie) {
	t.Helper()
	store, err := sessionstore.NewFileStore(t.TempDir(), sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, testKeys()...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Issuer: issuer, ClientID: entraClientID, ClientCredential: credential, RedirectURL: "http://app/auth/callback",
		Store: store, CookieKeys: testKeys(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return m, signedInWithExpiredToken(t, store, "refresh-0")
}

// refresh forces one refresh grant for the session and returns the new access token.
func refresh(m *Manager, c *http.Cookie) (string, error) {
	tok, err := m.TokenSource(httptest.NewRecorder(), testkit.RequestWithCookie(c)).Token()
	if err != nil {
		return "", err
	}
	return tok.AccessToken, m.RefreshAfterRejection(httptest.NewRecorder(), testkit.RequestWithCookie(c), tok.AccessToken)
}

func newCertificate(t *testing.T) (*clientauth.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := clientauth.SelfSignedFor(key, "pcsupport", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientauth.NewCertificate(entraClientID, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// Refreshes with a registered certificate are accepted, each with a new assertion; the
// endpoint's checks are shown to bite: an unregistered certificate, an expired assertion and a
// replayed one are refused, and a refused credential is not mistaken for a spent refresh token.
func TestCertificateCredentialAtAnEntraLikeTokenEndpoint(t *testing.T) {
	t.Parallel()
	good, key := newCertificate(t)
	idp := newEntraTokenEndpoint(t, good.Certificate())
	m, c := managerWith(t, idp.URL, good)
	if _, err := refresh(m, c); err != nil {
		t.Fatalf("refresh with the registered certificate: %v", err)
	}
	if got := idp.accepted(); len(got) != 2 || got[0] == got[1] {
		t.Fatalf("accepted %d assertions (want 2, different)", len(got))
	}

	if got := postTokenRequest(t, idp, idp.lastForm); !strings.Contains(got, "AADSTS700023") {
		t.Errorf("a replayed assertion was answered %s", got)
	}

	// An assertion signed with the right key but expired a minute ago.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).
		WithHeader("x5t#S256", thumbprint(good.Certificate())))
	past := time.Now().Add(-6 * time.Minute)
	expired, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: entraClientID, Subject: entraClientID, Audience: jwt.Audience{idp.tokenURL()},
		ID: rand.Text(), IssuedAt: jwt.NewNumericDate(past), NotBefore: jwt.NewNumericDate(past), Expiry: jwt.NewNumericDate(past.Add(5 * time.Minute))}).Serialize()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"refresh-1"}, "client_id": {entraClientID},
		"client_assertion_type": {clientauth.AssertionType}, "client_assertion": {expired}}
	if got := postTokenRequest(t, idp, form); !strings.Contains(got, "AADSTS700024") {
		t.Errorf("an expired assertion was answered %s", got)
	}

	stranger, _ := newCertificate(t)
	m2, c2 := managerWith(t, idp.URL, stranger)
	_, err := m2.TokenSource(httptest.NewRecorder(), testkit.RequestWithCookie(c2)).Token()
	if err == nil || !strings.Contains(err.Error(), invalidClientError) || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Errorf("an unregistered certificate: %v", err)
	}
	if errors.Is(err, ErrSignInRequired) {
		t.Error("a refused client credential asks the person to sign in again, which cannot help")
	}
}

// postTokenRequest sends form to the token endpoint as is and returns the status and body.
func postTokenRequest(t *testing.T, idp *entraTokenEndpoint, form url.Values) string {
	t.Helper()
	resp, err := http.PostForm(idp.tokenURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + string(body)
}

func thumbprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// The projected service-account token rotates between two refreshes: the second refresh
// carries the new one.
func TestFederatedTokenRotatesBetweenRefreshes(t *testing.T) {
	t.Parallel()
	issuerKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	idp := newEntraTokenEndpoint(t)
	idp.federatedKey = &issuerKey.PublicKey
	mint := func() string {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: issuerKey}, nil)
		s, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: federatedIssuer, Subject: federatedSubject, Audience: jwt.Audience{federatedAudience},
			ID: rand.Text(), Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}).Serialize()
		return s
	}
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	first, second := mint(), mint()
	os.WriteFile(file, []byte(first), 0o600)
	credential, err := clientauth.NewFederatedToken(entraClientID, file)
	if err != nil {
		t.Fatal(err)
	}
	m, c := managerWith(t, idp.URL, credential)
	if _, err := m.TokenSource(httptest.NewRecorder(), testkit.RequestWithCookie(c)).Token(); err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	os.WriteFile(file, []byte(second), 0o600)
	if err := m.RefreshAfterRejection(httptest.NewRecorder(), testkit.RequestWithCookie(c), "access-1"); err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	if got := idp.accepted(); len(got) != 2 || got[0] != first || got[1] != second {
		t.Errorf("the refreshes carried %d assertions; want the first token, then the rotated one", len(got))
	}
}
