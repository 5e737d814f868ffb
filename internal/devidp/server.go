package devidp

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// server is op's LegacyServer with some of its steps (client assertions: clientassertion.go) made to behave like Entra ID. Everything
// else (parsing, client authentication, PKCE verification, signing, errors) stays op's.
type server struct {
	*op.LegacyServer
	storage       *storage
	stats         *counters
	tokenEndpoint string // the audience of client assertions
}

// tokenRequest is what the two token grants hand to tokenResponse.
type tokenRequest interface {
	op.IDTokenRequest
	forIDToken() op.IDTokenRequest
}

// Authorize refuses an authorization request without PKCE S256 and answers prompt=none with
// login_required, since there is never a session to reuse. op allows both.
func (s *server) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	if r.Data.CodeChallenge == "" || r.Data.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription(
			"AADSTS9002325: Proof Key for Code Exchange is required: send code_challenge with code_challenge_method S256.")
	}
	if slices.Contains(r.Data.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	return s.LegacyServer.Authorize(ctx, r)
}

// Discovery is op's, except that token_endpoint_auth_methods_supported lists the methods of the
// registered clients and no other (op lists every method it knows): a client that reads it to
// choose picks one that works.
func (s *server) Discovery(ctx context.Context, r *op.Request[struct{}]) (*op.Response, error) {
	resp, err := s.LegacyServer.Discovery(ctx, r)
	if err != nil {
		return nil, err
	}
	config, ok := resp.Data.(*oidc.DiscoveryConfiguration)
	if !ok {
		return nil, fmt.Errorf("discovery: op answered a %T", resp.Data)
	}
	config.TokenEndpointAuthMethodsSupported = s.storage.authMethods()
	return resp, nil
}

// EndSession is op's, except that post_logout_redirect_uri is followed only with an id_token_hint,
// as ory/hydra, Duende IdentityServer and Connect2id require: op would follow it for any client
// that is named. op checks the hint (its signature; an expired one is fine, as OpenID Connect
// RP-Initiated Logout allows) and that the address is registered for the client it was issued to.
func (s *server) EndSession(ctx context.Context, r *op.Request[oidc.EndSessionRequest]) (*op.Redirect, error) {
	if r.Data.PostLogoutRedirectURI != "" && r.Data.IdTokenHint == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri is followed only with an id_token_hint")
	}
	redirect, err := s.LegacyServer.EndSession(ctx, r)
	if err == nil && r.Data.IdTokenHint != "" {
		s.stats.signOuts.Add(1)
	}
	return redirect, err
}

// CodeExchange is op's, except that a missing code_verifier is refused even for a client with
// a secret (op only checks a verifier that is sent), and the ID token's audience is the client.
func (s *server) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	found, err := op.AuthRequestByCode(ctx, s.storage, r.Data.Code)
	if err != nil {
		return nil, err
	}
	req := found.(*authRequest)
	if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, req.GetCodeChallenge()); err != nil {
		return nil, err
	}
	if r.Client.GetID() != req.clientID {
		return nil, oidc.ErrInvalidGrant()
	}
	if r.Data.RedirectURI != req.redirectURI {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not correspond")
	}
	resp, err := s.tokenResponse(ctx, req, r.Client, r.Data.Code, "")
	if err != nil {
		return nil, err
	}
	if err := s.storage.DeleteAuthRequest(ctx, req.id); err != nil {
		return nil, err
	}
	s.stats.codeExchanges.Add(1)
	return op.NewResponse(resp), nil
}

// RefreshToken is op's, with the ID token addressed to the client, an Entra-like description
// when the token is refused, and counts for Stats.
func (s *server) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	resp, err := s.refresh(ctx, r)
	if err != nil {
		s.stats.refusedRefreshes.Add(1)
		return nil, err
	}
	s.stats.refreshes.Add(1)
	return op.NewResponse(resp), nil
}

func (s *server) refresh(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*oidc.AccessTokenResponse, error) {
	// Asked directly rather than through op.RefreshTokenRequestByRefreshToken, which would
	// drop the description.
	found, err := s.storage.TokenRequestByRefreshToken(ctx, r.Data.RefreshToken)
	if err != nil {
		return nil, err
	}
	req := found.(*refreshToken)
	if r.Client.GetID() != req.clientID {
		return nil, oidc.ErrInvalidGrant()
	}
	if err := op.ValidateRefreshTokenScopes(r.Data.Scopes, req); err != nil {
		return nil, err
	}
	return s.tokenResponse(ctx, req, r.Client, "", r.Data.RefreshToken)
}

// tokenResponse is op.CreateTokenResponse but for the audiences: Entra ID addresses the access
// token to the resource and the ID token to the client, where op gives both the same one.
func (s *server) tokenResponse(ctx context.Context, req tokenRequest, client op.Client, code, refreshToken string) (*oidc.AccessTokenResponse, error) {
	provider := s.Provider()
	accessToken, newRefreshToken, validity, err := op.CreateAccessToken(ctx, req, client.AccessTokenType(), provider, client, refreshToken)
	if err != nil {
		return nil, err
	}
	idToken, err := op.CreateIDToken(ctx, op.IssuerFromContext(ctx), req.forIDToken(), client.IDTokenLifetime(), accessToken, code, provider.Storage(), client)
	if err != nil {
		return nil, err
	}
	return &oidc.AccessTokenResponse{
		AccessToken:  accessToken,
		IDToken:      idToken,
		RefreshToken: newRefreshToken,
		TokenType:    oidc.BearerToken,
		// Rounded, not truncated: a one-hour token says 3600, not 3599.
		ExpiresIn: uint64(validity.Round(time.Second).Seconds()),
		Scope:     req.GetScopes(),
	}, nil
}
