package devidp

import (
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequest is one authorization request, from /authorize until its code is redeemed.
// Stored values are never changed in place: the sign-in page stores a signed-in copy, so a
// request op is reading is never written at the same time.
type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge
	audience     []string // of the access token: the requested resource

	// Set when a persona is chosen on the sign-in page.
	subject  string
	amr      []string
	authTime time.Time
}

func newAuthRequest(id string, req *oidc.AuthRequest) *authRequest {
	a := &authRequest{
		id:           id,
		created:      time.Now(),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       req.Scopes,
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		audience:     resourceAudience(req.Scopes, req.ClientID),
	}
	if req.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	return a
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return a.amr }
func (a *authRequest) GetAudience() []string                 { return a.audience }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.subject != "" }

// forIDToken is the same request addressed to the client, which is the ID token's audience.
func (a *authRequest) forIDToken() op.IDTokenRequest {
	c := *a
	c.audience = []string{a.clientID}
	return &c
}

// refreshToken is a stored refresh token and the grant it carries forward. It is also the
// op.RefreshTokenRequest handed to op, always as a copy, since op may narrow its scopes.
type refreshToken struct {
	token    string
	clientID string
	subject  string
	scopes   []string
	amr      []string
	audience []string
	authTime time.Time
}

func (t *refreshToken) GetAMR() []string                 { return t.amr }
func (t *refreshToken) GetAudience() []string            { return t.audience }
func (t *refreshToken) GetAuthTime() time.Time           { return t.authTime }
func (t *refreshToken) GetClientID() string              { return t.clientID }
func (t *refreshToken) GetScopes() []string              { return t.scopes }
func (t *refreshToken) GetSubject() string               { return t.subject }
func (t *refreshToken) SetCurrentScopes(scopes []string) { t.scopes = scopes }

func (t *refreshToken) forIDToken() op.IDTokenRequest {
	c := *t
	c.audience = []string{t.clientID}
	return &c
}

// resourceScope splits a scope naming a resource's permission, as Entra ID writes them:
// "https://api.partnercenter.microsoft.com/user_impersonation" is the permission
// "user_impersonation" of the resource "https://api.partnercenter.microsoft.com".
func resourceScope(scope string) (resource, permission string, ok bool) {
	i := strings.LastIndex(scope, "/")
	if i < 0 || !strings.Contains(scope[:i], "://") || strings.HasSuffix(scope[:i], "/") || i == len(scope)-1 {
		return "", "", false
	}
	return scope[:i], scope[i+1:], true
}

// resourceAudience is the access token's audience: the resource of the first resource scope,
// else the client itself (Entra ID issues a token for one resource at a time).
func resourceAudience(scopes []string, clientID string) []string {
	for _, s := range scopes {
		if resource, _, ok := resourceScope(s); ok {
			return []string{resource}
		}
	}
	return []string{clientID}
}

// delegatedScopes is the scp claim: the permissions granted on the token's resource.
func delegatedScopes(scopes, audience []string) string {
	var granted []string
	for _, s := range scopes {
		if resource, permission, ok := resourceScope(s); ok && len(audience) == 1 && resource == audience[0] {
			granted = append(granted, permission)
		}
	}
	return strings.Join(granted, " ")
}
