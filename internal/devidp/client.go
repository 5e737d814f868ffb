package devidp

import (
	"crypto/x509"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Client is an application registered with the provider. It authenticates with at most one of
// Secret, Certificate and Federated; with none it is a public client (PKCE alone).
type Client struct {
	ID     string
	Secret string
	// SecretMethod is how the client must send its Secret: "client_secret_basic" (the default, as
	// OAuth has it) or "client_secret_post". The other way is refused with invalid_client, the
	// right secret notwithstanding, as ory/hydra refuses it.
	SecretMethod string
	// Certificate is registered for the client: it authenticates with a client assertion signed
	// by the certificate's key, addressed to the token endpoint (private_key_jwt, as Entra ID).
	Certificate *x509.Certificate
	// Federated makes a token of another identity provider the client's assertion.
	Federated *FederatedCredential
	// RedirectURIs are matched exactly. The origin of each ("http://127.0.0.1:8080/")
	// is also accepted as post_logout_redirect_uri.
	RedirectURIs []string
	// PostLogoutRedirectURIs are further accepted post_logout_redirect_uri values.
	PostLogoutRedirectURIs []string
}

// client is a Client as op sees it: a web app using the code flow, JWT access tokens, and
// plain http on loopback.
type client struct {
	cfg             Client
	idTokenLifetime time.Duration
	loginURL        func(authRequestID string) string
}

func (c *client) GetID() string          { return c.cfg.ID }
func (c *client) RedirectURIs() []string { return c.cfg.RedirectURIs }

func (c *client) PostLogoutRedirectURIs() []string {
	uris := append([]string(nil), c.cfg.PostLogoutRedirectURIs...)
	for _, redirect := range c.cfg.RedirectURIs {
		if u, err := url.Parse(redirect); err == nil {
			uris = append(uris, u.Scheme+"://"+u.Host+"/")
		}
	}
	return uris
}

func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

// AuthMethod is the one way the client authenticates. op checks a secret wherever it is sent,
// so checkSecretMethod refuses the way the client was not registered for. A client with a
// certificate or a federated credential must send an assertion (see VerifyClient).
func (c *client) AuthMethod() oidc.AuthMethod {
	switch {
	case c.cfg.Certificate != nil || c.cfg.Federated != nil:
		return oidc.AuthMethodPrivateKeyJWT
	case c.cfg.Secret == "":
		return oidc.AuthMethodNone
	case c.cfg.SecretMethod == string(oidc.AuthMethodPost):
		return oidc.AuthMethodPost
	}
	return oidc.AuthMethodBasic
}

// checkSecretMethod refuses a token request whose secret came the way its client was not
// registered for: in the form (client_secret_post) or in the Authorization header
// (client_secret_basic).
func (s *storage) checkSecretMethod(r *op.Request[op.ClientCredentials]) error {
	c, ok := s.clients[r.Data.ClientID]
	if !ok || c.cfg.Secret == "" {
		return nil // an unknown or public client: op decides
	}
	used := oidc.AuthMethodNone
	if _, _, basic := (&http.Request{Header: r.Header}).BasicAuth(); basic {
		used = oidc.AuthMethodBasic
	} else if r.Form.Get("client_secret") != "" {
		used = oidc.AuthMethodPost
	}
	if want := c.AuthMethod(); used != want {
		return oidc.ErrInvalidClient().WithDescription("the client is registered for %s, but the request used %s", want, used)
	}
	return nil
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

func (c *client) LoginURL(authRequestID string) string { return c.loginURL(authRequestID) }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return c.idTokenLifetime }

// DevMode allows http redirect URIs, which loopback development needs.
func (c *client) DevMode() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// IsScopeAllowed admits resource scopes such as https://api.partnercenter.microsoft.com/user_impersonation
// beside the standard ones op knows.
func (c *client) IsScopeAllowed(scope string) bool {
	_, _, ok := resourceScope(scope)
	return ok
}

// IDTokenUserinfoClaimsAssertion puts name, preferred_username and email in the ID token even
// though an access token is issued too, as Entra ID does.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c *client) ClockSkew() time.Duration { return 0 }
