package pcemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Only asymmetric algorithms: a KeySet holds public keys, and accepting
// "none" or HMAC would let anyone mint tokens.
var signatureAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// claims are the parts of an Entra ID v2 access token the service looks at.
type claims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	TenantID  string           `json:"tid"`
	ObjectID  string           `json:"oid"`
	Scope     string           `json:"scp"`
	IDType    string           `json:"idtyp"`
	AMR       []string         `json:"amr"` // nil when absent, which the service tells apart from "no mfa"
	WIDs      []string         `json:"wids"`
}

// userID keys the role directory; oid is Entra's stable user id, sub a fallback for other providers.
func (c *claims) userID() string {
	if c.ObjectID != "" {
		return c.ObjectID
	}
	return c.Subject
}

// authenticate checks the bearer token in the order the service does and
// returns the claims, or the refusal to answer with. Claims are also
// returned with refusals that come after the signature check.
func (e *Emulator) authenticate(r *http.Request) (*claims, *apiError) {
	raw, ok := bearerToken(r)
	if !ok {
		return nil, errUnauthorized("The Authorization header is missing or is not a Bearer token.")
	}
	if _, err := jose.ParseSignedCompact(raw, signatureAlgorithms); err != nil {
		return nil, errUnauthorized("The access token could not be parsed.")
	}
	if e.keySet == nil {
		return nil, errUnauthorized("The access token signature could not be verified.")
	}
	payload, err := e.keySet.VerifySignature(r.Context(), raw)
	if err != nil {
		return nil, errUnauthorized("The access token signature could not be verified.")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errUnauthorized("The access token claims could not be read.")
	}
	now := e.now()
	switch {
	case c.Expiry == nil:
		return &c, errUnauthorized("The access token has no expiry.")
	case !now.Before(c.Expiry.Time()):
		return &c, errUnauthorized("The access token expired at " + c.Expiry.Time().UTC().Format(time.RFC3339) + ".")
	case c.NotBefore != nil && now.Before(c.NotBefore.Time()):
		return &c, errUnauthorized("The access token is not valid before " + c.NotBefore.Time().UTC().Format(time.RFC3339) + ".")
	case len(e.issuers) > 0 && !slices.Contains(e.issuers, c.Issuer):
		return &c, errUnauthorized("The access token issuer '" + c.Issuer + "' is not trusted.")
	case c.TenantID == "":
		return &c, errUnauthorized("The access token has no tenant (tid) claim.")
	}
	if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(e.audiences, a) }) {
		return &c, &apiError{http.StatusUnauthorized, "900420",
			"The access token audience '" + strings.Join(c.Audience, ",") + "' is not valid for Partner Center."}
	}
	if c.Scope == "" || strings.EqualFold(c.IDType, "app") {
		return &c, &apiError{http.StatusUnauthorized, "400",
			"This operation requires app+user (delegated) authentication; app-only tokens are not supported."}
	}
	if c.AMR == nil {
		return &c, &apiError{http.StatusUnauthorized, "900421",
			"The access token has no amr claim; multi-factor authentication is required."}
	}
	if !slices.Contains(c.AMR, "mfa") {
		return &c, &apiError{http.StatusUnauthorized, "10001",
			"MFA required: sign in with multi-factor authentication."}
	}
	return &c, nil
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// claimedTenant reads tid from the token without verifying it. It only
// attributes refusals to a tenant in the counters; it grants nothing.
func claimedTenant(r *http.Request) string {
	raw, ok := bearerToken(r)
	if !ok {
		return ""
	}
	jws, err := jose.ParseSignedCompact(raw, signatureAlgorithms)
	if err != nil {
		return ""
	}
	var c struct {
		TenantID string `json:"tid"`
	}
	if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c) != nil {
		return ""
	}
	return c.TenantID
}

func errUnauthorized(description string) *apiError {
	return &apiError{http.StatusUnauthorized, "800001", description}
}
