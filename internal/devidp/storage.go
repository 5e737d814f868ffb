package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequestLifetime bounds the sign-in and the code's life, as Entra ID's ten-minute codes.
const authRequestLifetime = 10 * time.Minute

// refreshTokenGone is the error_description of a refused refresh; the app only needs
// invalid_grant to know it must sign the user in again.
const refreshTokenGone = "AADSTS700082: The refresh token has expired due to inactivity."

var _ interface {
	op.Storage
	op.CanSetUserinfoFromRequest
	op.CanGetPrivateClaimsFromRequest
} = (*storage)(nil)

// storage is the op.Storage of the provider: everything in memory, gone when the process ends.
type storage struct {
	clients             map[string]*client
	personas            map[string]Persona // by ObjectID
	key                 signingKey
	accessTokenLifetime time.Duration

	mu            sync.Mutex
	authRequests  map[string]*authRequest
	codes         map[string]string // code -> auth request id
	refreshTokens map[string]*refreshToken
	accessTokens  map[string]accessToken // by jti, for the userinfo endpoint
	assertionIDs  map[string]time.Time   // jti of client assertions used, until they expire
}

type accessToken struct {
	subject string
	scopes  []string
	expires time.Time
}

func newStorage(clients map[string]*client, personas []Persona, key signingKey, accessTokenLifetime time.Duration) *storage {
	s := &storage{
		clients:             clients,
		personas:            make(map[string]Persona, len(personas)),
		key:                 key,
		accessTokenLifetime: accessTokenLifetime,
		authRequests:        make(map[string]*authRequest),
		codes:               make(map[string]string),
		refreshTokens:       make(map[string]*refreshToken),
		accessTokens:        make(map[string]accessToken),
		assertionIDs:        make(map[string]time.Time),
	}
	for _, p := range personas {
		s.personas[p.ObjectID] = p
	}
	return s
}

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Abandoned sign-ins would otherwise pile up in a long-running dev server.
	for id, a := range s.authRequests {
		if time.Since(a.created) > authRequestLifetime {
			s.deleteAuthRequestLocked(id)
		}
	}
	a := newAuthRequest(uuid.NewString(), req)
	s.authRequests[a.id] = a
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	a, err := s.authRequest(id)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (s *storage) authRequest(id string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok || time.Since(a.created) > authRequestLifetime {
		return nil, errors.New("auth request not found or expired")
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code not found or already redeemed")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest runs once the code is redeemed, which makes the code single-use.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteAuthRequestLocked(id)
	return nil
}

func (s *storage) deleteAuthRequestLocked(id string) {
	delete(s.authRequests, id)
	for code, requestID := range s.codes {
		if requestID == id {
			delete(s.codes, code)
		}
	}
}

// signIn records that the persona signed in for the auth request.
func (s *storage) signIn(id string, p Persona) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return errors.New("auth request not found")
	}
	signedIn := *a
	signedIn.subject = p.ObjectID
	signedIn.amr = p.amr()
	signedIn.authTime = time.Now()
	s.authRequests[id] = &signedIn
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, expires := s.newAccessTokenLocked(req.GetSubject(), req.GetScopes())
	return id, expires, nil
}

// CreateAccessAndRefreshTokens issues a refresh token for a code, or rotates one: the
// presented token stops working and a new one carries the grant forward, as with Entra ID.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var grant refreshToken
	if current == "" {
		a, ok := req.(*authRequest)
		if !ok {
			return "", "", time.Time{}, fmt.Errorf("refresh token for a %T", req)
		}
		grant = refreshToken{
			clientID: a.clientID,
			subject:  a.subject,
			scopes:   a.scopes,
			amr:      a.amr,
			audience: a.audience,
			authTime: a.authTime,
		}
	} else {
		old, ok := s.refreshTokens[current]
		if !ok { // rotated away or revoked since it was looked up
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription(refreshTokenGone)
		}
		delete(s.refreshTokens, current)
		grant = *old
	}
	grant.token = rand.Text()
	s.refreshTokens[grant.token] = &grant
	id, expires := s.newAccessTokenLocked(req.GetSubject(), req.GetScopes())
	return id, grant.token, expires, nil
}

func (s *storage) newAccessTokenLocked(subject string, scopes []string) (string, time.Time) {
	now := time.Now()
	for id, t := range s.accessTokens {
		if now.After(t.expires) {
			delete(s.accessTokens, id)
		}
	}
	id := uuid.NewString()
	expires := now.Add(s.accessTokenLifetime)
	s.accessTokens[id] = accessToken{subject: subject, scopes: scopes, expires: expires}
	return id, expires
}

// TokenRequestByRefreshToken refuses with invalid_grant and an Entra-like description.
func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refreshTokens[token]
	if !ok {
		return nil, oidc.ErrInvalidGrant().WithDescription(refreshTokenGone)
	}
	c := *t
	return &c, nil
}

// revokeRefreshTokens drops every refresh token of the user.
func (s *storage) revokeRefreshTokens(subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for token, t := range s.refreshTokens {
		if t.subject == subject {
			delete(s.refreshTokens, token)
		}
	}
}

// TerminateSession has nothing to end: the provider keeps no browser session, and signing out
// of Entra ID does not revoke refresh tokens either.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// The revocation and introspection endpoints are not served (Entra ID has neither), so op
// never calls these two.
func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrServerError().WithDescription("revocation is not served")
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not served")
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return &s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.key.algorithm}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{&publicKey{s.key}}, nil
}

// GetClientByClientID refuses an unknown client with an oidc.Error that op neither redirects
// (the redirect URI cannot be trusted) nor, on the authorize path, turns into a 500.
func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("AADSTS700016: The application was not found.")
	}
	return c, nil
}

// authMethods are the token endpoint's authentication methods that some registered client uses,
// in op's order.
func (s *storage) authMethods() []oidc.AuthMethod {
	used := map[oidc.AuthMethod]bool{}
	for _, c := range s.clients {
		used[c.AuthMethod()] = true
	}
	var methods []oidc.AuthMethod
	for _, m := range []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT} {
		if used[m] {
			methods = append(methods, m)
		}
	}
	return methods
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.cfg.Secret), []byte(secret)) != 1 {
		return errors.New("unknown client or wrong secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint; op has already checked the JWT.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != subject || time.Now().After(t.expires) {
		return errors.New("access token unknown or expired")
	}
	return s.setUserinfo(info, subject, t.scopes)
}

func (s *storage) setUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	p, ok := s.personas[subject]
	if !ok {
		return errors.New("user not found")
	}
	info.Subject = p.ObjectID
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			info.Name = p.Name
			info.PreferredUsername = p.UPN
		case oidc.ScopeEmail:
			info.Email = p.UPN
		}
	}
	info.AppendClaims("oid", p.ObjectID)
	info.AppendClaims("tid", p.TenantID)
	// Entra ID's optional login_hint claim: opaque, the logout_hint of a sign-out.
	info.AppendClaims("login_hint", "O.dev."+p.ObjectID)
	return nil
}

// GetPrivateClaimsFromRequest adds the Entra ID claims of a delegated access token, which is
// what the Partner Center emulator checks.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	p, ok := s.personas[req.GetSubject()]
	if !ok {
		return nil, errors.New("user not found")
	}
	claims := map[string]any{
		"tid":                p.TenantID,
		"oid":                p.ObjectID,
		"name":               p.Name,
		"upn":                p.UPN,
		"preferred_username": p.UPN,
		"idtyp":              "user",
	}
	if r, ok := req.(interface{ GetAMR() []string }); ok {
		claims["amr"] = r.GetAMR()
	}
	if scp := delegatedScopes(req.GetScopes(), req.GetAudience()); scp != "" {
		claims["scp"] = scp
	}
	return claims, nil
}

// GetPrivateClaimsFromScopes is not called: GetPrivateClaimsFromRequest takes its place.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// The JWT profile grant is not offered; client assertions are checked in clientassertion.go.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s *storage) Health(context.Context) error { return nil }

// signingKey is the provider's RSA key, made at start-up: tokens do not outlive the process.
type signingKey struct {
	id        string
	algorithm jose.SignatureAlgorithm
	key       *rsa.PrivateKey
}

func newSigningKey() (signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signingKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	return signingKey{id: uuid.NewString(), algorithm: jose.RS256, key: key}, nil
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.algorithm }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the signing key as published in the JWKS.
type publicKey struct{ signingKey }

func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return k.algorithm }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return &k.key.PublicKey }
