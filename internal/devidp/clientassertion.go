package devidp

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// FederatedCredential makes the provider trust tokens of another identity provider as a client's
// assertion, as an Entra ID federated identity credential does: issuer, subject and audience must
// match, and the token must be signed by one of the issuer's keys.
type FederatedCredential struct {
	Issuer, Subject, Audience string
	Keys                      jose.JSONWebKeySet
}

// assertionLeeway tolerates clocks a little apart, as Entra ID does.
const assertionLeeway = 30 * time.Second

var assertionAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.ES384, jose.ES512}

// VerifyClient checks a client assertion as Entra ID does (op's private_key_jwt wants the issuer
// as audience; Entra ID, and so this app, address it to the token endpoint). A secret is op's to
// check, once it came the way its client was registered for.
func (s *server) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	if r.Data.ClientAssertionType != oidc.ClientAssertionTypeJWTAssertion {
		if err := s.storage.checkSecretMethod(r); err != nil {
			return nil, err
		}
		return s.LegacyServer.VerifyClient(ctx, r)
	}
	c, err := s.storage.verifyClientAssertion(r.Data.ClientID, r.Data.ClientAssertion, s.tokenEndpoint, time.Now())
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("%s", err.Error())
	}
	return c, nil
}

// verifyClientAssertion finds the client (client_id, or the assertion's issuer) and checks the
// assertion against its registered certificate or federated credential.
func (s *storage) verifyClientAssertion(clientID, assertion, tokenEndpoint string, now time.Time) (*client, error) {
	tok, err := jwt.ParseSigned(assertion, assertionAlgorithms)
	if err != nil {
		return nil, errors.New("AADSTS50027: the client assertion is not a signed JWT")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, errors.New("AADSTS50027: the client assertion's claims cannot be read")
	}
	c, ok := s.clients[cmp.Or(clientID, unverified.Issuer)]
	switch {
	case !ok:
		return nil, errors.New("AADSTS700016: the application was not found")
	case c.cfg.Certificate != nil:
		return c, s.checkCertificateAssertion(c, tok, tokenEndpoint, now)
	case c.cfg.Federated != nil:
		return c, checkFederatedAssertion(c.cfg.Federated, tok, now)
	}
	return nil, errors.New("AADSTS7000215: the application has no certificate or federated credential")
}

// checkCertificateAssertion: the registered certificate (by x5t#S256) signed it, iss and sub are
// the client, aud is the token endpoint, it is within its lifetime, and its jti is new.
func (s *storage) checkCertificateAssertion(c *client, tok *jwt.JSONWebToken, tokenEndpoint string, now time.Time) error {
	cert := c.cfg.Certificate
	sum := sha256.Sum256(cert.Raw)
	if tok.Headers[0].ExtraHeaders["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		return errors.New("AADSTS700027: the certificate used to sign the client assertion is not registered for the application")
	}
	var claims jwt.Claims
	if err := tok.Claims(cert.PublicKey, &claims); err != nil {
		return errors.New("AADSTS700027: the client assertion's signature does not verify with the registered certificate")
	}
	if claims.Issuer != c.cfg.ID || claims.Subject != c.cfg.ID {
		return errors.New("AADSTS700021: the client assertion's iss and sub must be the application's client id")
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{tokenEndpoint}, Time: now}, assertionLeeway); err != nil {
		return fmt.Errorf("AADSTS700024: the client assertion is not addressed to %s or not within its lifetime: %v", tokenEndpoint, err)
	}
	if claims.ID == "" || !s.useAssertionID(claims.ID, claims.Expiry.Time().Add(assertionLeeway)) {
		return errors.New("AADSTS700023: the client assertion has no jti, or was used before")
	}
	return nil
}

// useAssertionID records a jti until it expires; it is false for one already used.
func (s *storage) useAssertionID(id string, until time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for seen, expires := range s.assertionIDs {
		if now.After(expires) {
			delete(s.assertionIDs, seen)
		}
	}
	if _, used := s.assertionIDs[id]; used {
		return false
	}
	s.assertionIDs[id] = until
	return true
}

func checkFederatedAssertion(f *FederatedCredential, tok *jwt.JSONWebToken, now time.Time) error {
	keys := f.Keys.Key(tok.Headers[0].KeyID)
	if len(keys) == 0 {
		return errors.New("AADSTS700211: the federated token is not signed by a key of the trusted issuer")
	}
	var claims jwt.Claims
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		return errors.New("AADSTS700211: the federated token's signature does not verify")
	}
	if claims.Issuer != f.Issuer || claims.Subject != f.Subject || !claims.Audience.Contains(f.Audience) {
		return fmt.Errorf("AADSTS70021: no federated identity credential matches issuer %q, subject %q, audience %v", claims.Issuer, claims.Subject, []string(claims.Audience))
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Time: now}, assertionLeeway); err != nil {
		return fmt.Errorf("AADSTS700024: the federated token is not within its lifetime: %v", err)
	}
	return nil
}
