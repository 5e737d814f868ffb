package pcemu

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestTokenChecks(t *testing.T) {
	base := userClaims(tenantA, readerOID)
	unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		strings.Split(mint(t, base), ".")[1] + "."
	tests := []struct {
		name          string
		authorization string // the whole header, when the test is about its form
		token         string
		status        int
		code          string // "" for success
		mention       string // a word the description must contain
	}{
		{name: "valid", token: mint(t, base), status: 200},
		{name: "lower-case scheme", authorization: "bearer " + mint(t, base), status: 200},
		{name: "audience as appId", token: mint(t, with(base, map[string]any{"aud": AudienceAppID})), status: 200},
		{name: "audience list", token: mint(t, with(base, map[string]any{"aud": []string{"other", AudienceURL}})), status: 200},
		{name: "amr only mfa", token: mint(t, with(base, map[string]any{"amr": []string{"mfa"}})), status: 200},

		{name: "missing header", status: 401, code: "800001", mention: "missing"},
		{name: "basic scheme", authorization: "Basic dXNlcjpwYXNz", status: 401, code: "800001"},
		{name: "empty bearer", authorization: "Bearer ", status: 401, code: "800001"},
		{name: "not a jwt", token: "not-a-token", status: 401, code: "800001", mention: "parsed"},
		{name: "alg none", token: unsigned, status: 401, code: "800001"},
		{name: "hmac", token: mintWith(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), base), status: 401, code: "800001"},
		{name: "stranger's key", token: mintWith(t, jose.RS256, strangerKey(), base), status: 401, code: "800001", mention: "signature"},
		{name: "expired", token: mint(t, with(base, map[string]any{"exp": testNow.Add(-time.Second).Unix()})), status: 401, code: "800001", mention: "expired"},
		{name: "expires now", token: mint(t, with(base, map[string]any{"exp": testNow.Unix()})), status: 401, code: "800001", mention: "expired"},
		{name: "no expiry", token: mint(t, with(base, map[string]any{"exp": nil})), status: 401, code: "800001"},
		{name: "not yet valid", token: mint(t, with(base, map[string]any{"nbf": testNow.Add(time.Minute).Unix()})), status: 401, code: "800001", mention: "not valid before"},
		{name: "wrong issuer", token: mint(t, with(base, map[string]any{"iss": "https://evil.example"})), status: 401, code: "800001", mention: "issuer"},
		{name: "no tenant", token: mint(t, with(base, map[string]any{"tid": nil})), status: 401, code: "800001", mention: "tid"},
		{name: "wrong audience", token: mint(t, with(base, map[string]any{"aud": "api://other"})), status: 401, code: "900420", mention: "audience"},
		{name: "app-only without scp", token: mint(t, with(base, map[string]any{"scp": nil, "idtyp": nil, "roles": []string{"x"}})), status: 401, code: "400", mention: "app+user"},
		{name: "app-only idtyp", token: mint(t, with(base, map[string]any{"idtyp": "app"})), status: 401, code: "400", mention: "app+user"},
		{name: "amr absent", token: mint(t, with(base, map[string]any{"amr": nil})), status: 401, code: "900421", mention: "amr"},
		{name: "amr without mfa", token: mint(t, with(base, map[string]any{"amr": []string{"pwd"}})), status: 401, code: "10001", mention: "MFA required"},
		{name: "amr empty", token: mint(t, with(base, map[string]any{"amr": []string{}})), status: 401, code: "10001"},

		// The checks run in order: the first failing one answers.
		{name: "expired beats audience", token: mint(t, with(base, map[string]any{"exp": testNow.Add(-time.Hour).Unix(), "aud": "x"})), status: 401, code: "800001"},
		{name: "issuer beats audience", token: mint(t, with(base, map[string]any{"iss": "x", "aud": "x"})), status: 401, code: "800001"},
		{name: "audience beats app-only", token: mint(t, with(base, map[string]any{"aud": "x", "scp": nil})), status: 401, code: "900420"},
		{name: "app-only beats mfa", token: mint(t, with(base, map[string]any{"scp": nil, "amr": nil})), status: 401, code: "400"},
	}
	e := newTestEmulator(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{}
			switch {
			case tt.authorization != "":
				header["Authorization"] = tt.authorization
			case tt.token != "":
				header["Authorization"] = "Bearer " + tt.token
			}
			rec := serve(t, e, request{header: header})
			if tt.code == "" {
				if rec.Code != tt.status {
					t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
				}
				return
			}
			b := wantError(t, rec, tt.status, tt.code)
			if !strings.Contains(b.Description, tt.mention) {
				t.Errorf("description %q does not mention %q", b.Description, tt.mention)
			}
		})
	}
}

func TestAnyIssuerWhenNoneConfigured(t *testing.T) {
	e := newTestEmulator(t, Options{Issuers: []string{}})
	token := mint(t, with(userClaims(tenantA, readerOID), map[string]any{"iss": "https://anyone.example"}))
	if rec := serve(t, e, request{token: token}); rec.Code != http.StatusOK {
		t.Fatalf("status = %d: %s", rec.Code, rec.Body)
	}
}

func TestNoKeySetRefusesEveryToken(t *testing.T) {
	e := New(Options{Now: func() time.Time { return testNow }})
	wantError(t, serve(t, e, request{token: userToken(t, tenantA, readerOID)}), 401, "800001")
}

func TestRefusalsCountForTheNamedTenant(t *testing.T) {
	e := newTestEmulator(t, Options{})
	serve(t, e, request{token: mintWith(t, jose.RS256, strangerKey(), userClaims(tenantA, readerOID))})
	serve(t, e, request{})
	if got := e.TenantStats(tenantA); got != (Stats{Refused: 1}) {
		t.Errorf("tenant stats = %+v", got)
	}
	if got := e.Stats(); got != (Stats{Refused: 2}) {
		t.Errorf("stats = %+v", got)
	}
}
