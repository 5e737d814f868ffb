package pcemu

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	testIssuer = "https://login.example.test/tenant-a/v2.0"
	tenantA    = "11111111-1111-1111-1111-111111111111"
	tenantB    = "22222222-2222-2222-2222-222222222222"
	adminOID   = "aaaaaaaa-0000-0000-0000-000000000001"
	salesOID   = "aaaaaaaa-0000-0000-0000-000000000002"
	readerOID  = "aaaaaaaa-0000-0000-0000-000000000003"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Keys are made at run time; two so a token signed by a stranger can be minted.
var (
	testKey     = sync.OnceValue(func() *rsa.PrivateKey { return newRSAKey() })
	strangerKey = sync.OnceValue(func() *rsa.PrivateKey { return newRSAKey() })
)

func newRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// userClaims are those of an Entra ID v2 delegated access token after MFA.
func userClaims(tid, oid string) map[string]any {
	return map[string]any{
		"iss":   testIssuer,
		"sub":   "sub-" + oid,
		"aud":   AudienceURL,
		"exp":   testNow.Add(time.Hour).Unix(),
		"iat":   testNow.Add(-time.Minute).Unix(),
		"nbf":   testNow.Add(-time.Minute).Unix(),
		"tid":   tid,
		"oid":   oid,
		"name":  "Test User",
		"upn":   "user@contoso.example",
		"amr":   []string{"pwd", "mfa"},
		"scp":   "user_impersonation",
		"idtyp": "user",
	}
}

// with returns a copy of c changed by edits; a nil value removes the claim.
func with(c map[string]any, edits map[string]any) map[string]any {
	out := maps.Clone(c)
	for k, v := range edits {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func mintWith(t testing.TB, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test-key"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func mint(t testing.TB, claims map[string]any) string {
	t.Helper()
	return mintWith(t, jose.RS256, testKey(), claims)
}

func userToken(t testing.TB, tid, oid string) string {
	t.Helper()
	return mint(t, userClaims(tid, oid))
}

// newTestEmulator trusts testKey and testIssuer, at the fixed time testNow.
func newTestEmulator(t testing.TB, o Options) *Emulator {
	t.Helper()
	if o.KeySet == nil {
		o.KeySet = &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{testKey().Public()}}
	}
	if o.Issuers == nil {
		o.Issuers = []string{testIssuer}
	}
	if o.Now == nil {
		o.Now = func() time.Time { return testNow }
	}
	e := New(o)
	e.AssignRole(tenantA, adminOID, RoleAccountAdmin)
	e.AssignRole(tenantB, adminOID, RoleAccountAdmin)
	e.AssignRole(tenantA, salesOID, RoleSalesAgent)
	return e
}

type request struct {
	method, path, token, body string
	header                    map[string]string
	ctx                       context.Context
}

func serve(t testing.TB, h http.Handler, rq request) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	if rq.method == "" {
		rq.method = http.MethodGet
	}
	if rq.path == "" {
		rq.path = supportPath
	}
	r := httptest.NewRequest(rq.method, rq.path, body)
	if rq.ctx != nil {
		r = r.WithContext(rq.ctx)
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func decodeError(t testing.TB, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return b
}

func wantError(t testing.TB, rec *httptest.ResponseRecorder, status int, code string) errorBody {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	b := decodeError(t, rec)
	if b.Code != code {
		t.Fatalf("code = %q, want %q; description %q", b.Code, code, b.Description)
	}
	if b.Source != "PartnerFD" || b.Data == nil || b.Description == "" {
		t.Fatalf("error body not in the usual shape: %s", rec.Body)
	}
	return b
}

const pascalBody = `{"Email":"help@fabrikam.example","Telephone":"+33 1 23 45 67 89","Website":"https://www.fabrikam.example/support",
"ProfileType":"support_profile","Attributes":{"ObjectType":"PartnerSupportProfile"}}`

const camelBody = `{"email":"help@fabrikam.example","telephone":"(425) 555-0100","website":"www.fabrikam.example",
"profileType":"support_profile","links":{"self":{"uri":"/v1/profiles/support","method":"GET","headers":[]}},
"attributes":{"objectType":"PartnerSupportProfile"}}`
