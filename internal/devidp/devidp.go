// Package devidp is the OpenID Connect provider for development and tests: it signs in
// test personas and issues tokens shaped like Entra ID's, using zitadel/oidc's op.
package devidp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Options configures a Provider.
type Options struct {
	// Issuer is the absolute URL where the handler is served, e.g. http://127.0.0.1:43127.
	// It may have a path: requests must then reach the handler with that path still on them
	// (mux.Handle("/idp/", p), not through http.StripPrefix).
	Issuer              string
	Clients             []Client
	AccessTokenLifetime time.Duration // default 1h; tests set seconds so refresh can be exercised
	IDTokenLifetime     time.Duration // default 1h
	Personas            []Persona     // default Personas()
}

// Stats counts what the provider did, for tests.
type Stats struct {
	SignIns          int // personas chosen on the sign-in page
	CodeExchanges    int // codes redeemed for tokens
	Refreshes        int // refresh_token grants answered with tokens
	RefusedRefreshes int // refresh_token grants refused
	SignOuts         int // end-session requests that named the person with an id_token_hint
}

type counters struct {
	signIns, codeExchanges, refreshes, refusedRefreshes, signOuts atomic.Int64
}

// Provider is the development OpenID Connect provider, an http.Handler.
type Provider struct {
	issuer  string
	handler http.Handler
	storage *storage
	stats   *counters
}

// New makes a provider with a signing key and an encryption key of its own, generated now:
// nothing secret lives in the repository, and nothing it issues outlives the process.
func New(opts Options) (*Provider, error) {
	opts, prefix, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	loginURL := func(id string) string {
		return opts.Issuer + signInPath + "?" + fieldAuthRequestID + "=" + url.QueryEscape(id)
	}
	clients := make(map[string]*client, len(opts.Clients))
	for _, c := range opts.Clients {
		clients[c.ID] = &client{cfg: c, idTokenLifetime: opts.IDTokenLifetime, loginURL: loginURL}
	}
	store := newStorage(clients, opts.Personas, key, opts.AccessTokenLifetime)

	config := &op.Config{
		DefaultLogoutRedirectURI: opts.Issuer + signedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		AuthMethodPrivateKeyJWT:  true, // checked as Entra ID does: clientassertion.go
		GrantTypeRefreshToken:    true,
	}
	// op encrypts its authorization codes with this key.
	if _, err := rand.Read(config.CryptoKey[:]); err != nil {
		return nil, fmt.Errorf("generate crypto key: %w", err)
	}
	provider, err := op.NewProvider(config, store, op.StaticIssuer(opts.Issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("create op provider: %w", err)
	}

	// Only what Entra ID offers too; op leaves a nil endpoint out of routing and discovery.
	endpoints := provider.Endpoints()
	endpoints.Introspection = nil
	endpoints.Revocation = nil
	endpoints.DeviceAuthorization = nil
	endpoints.CheckSessionIframe = nil
	stats := &counters{}
	legacy := op.NewLegacyServer(provider, endpoints)
	srv := &server{LegacyServer: legacy, storage: store, stats: stats, tokenEndpoint: endpoints.Token.Absolute(opts.Issuer)}

	page := &signInPage{
		action:      opts.Issuer + signInPath,
		personas:    opts.Personas,
		storage:     store,
		authorizer:  provider,
		callbackURL: legacy.AuthCallbackURL(),
		stats:       stats,
	}
	mux := http.NewServeMux()
	// The interceptor gives the page the issuer op needs to build its callback URL.
	mux.Handle(signInPath, op.NewIssuerInterceptor(provider.IssuerFromRequest).Handler(page))
	mux.HandleFunc("GET "+signedOutPath, signedOut)
	mux.Handle("/", op.RegisterLegacyServer(srv, op.AuthorizeCallbackHandler(provider)))

	var handler http.Handler = mux
	if prefix != "" {
		handler = http.StripPrefix(prefix, mux)
	}
	return &Provider{issuer: opts.Issuer, handler: handler, storage: store, stats: stats}, nil
}

// withDefaults checks opts, fills in the defaults and returns the issuer's path.
func withDefaults(opts Options) (Options, string, error) {
	var problems []error
	opts.Issuer = strings.TrimSuffix(opts.Issuer, "/")
	u, err := url.Parse(opts.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		problems = append(problems, fmt.Errorf("issuer %q: want an absolute http(s) URL without query", opts.Issuer))
	}
	if len(opts.Clients) == 0 {
		problems = append(problems, errors.New("no clients"))
	}
	seen := map[string]bool{}
	for _, c := range opts.Clients {
		switch {
		case c.ID == "":
			problems = append(problems, errors.New("a client has no ID"))
		case seen[c.ID]:
			problems = append(problems, fmt.Errorf("client %q appears twice", c.ID))
		case len(c.RedirectURIs) == 0:
			problems = append(problems, fmt.Errorf("client %q has no redirect URI", c.ID))
		case (c.Secret != "") && (c.Certificate != nil || c.Federated != nil) || c.Certificate != nil && c.Federated != nil:
			problems = append(problems, fmt.Errorf("client %q has more than one of secret, certificate and federated credential", c.ID))
		case c.SecretMethod != "" && (c.Secret == "" || c.SecretMethod != string(oidc.AuthMethodBasic) && c.SecretMethod != string(oidc.AuthMethodPost)):
			problems = append(problems, fmt.Errorf("client %q: SecretMethod %q needs a secret and is client_secret_basic or client_secret_post", c.ID, c.SecretMethod))
		}
		seen[c.ID] = true
	}
	if opts.AccessTokenLifetime <= 0 {
		opts.AccessTokenLifetime = time.Hour
	}
	if opts.IDTokenLifetime <= 0 {
		opts.IDTokenLifetime = time.Hour
	}
	if len(opts.Personas) == 0 {
		opts.Personas = Personas()
	}
	personas := make([]Persona, 0, len(opts.Personas))
	keys, objectIDs := map[string]bool{}, map[string]bool{}
	for _, p := range opts.Personas {
		if p.Key == "" || p.ObjectID == "" || keys[p.Key] || objectIDs[p.ObjectID] {
			problems = append(problems, fmt.Errorf("persona %q: want a unique Key and ObjectID", p.Name))
		}
		keys[p.Key], objectIDs[p.ObjectID] = true, true
		if p.TenantID == "" {
			p.TenantID = TenantID
		}
		personas = append(personas, p)
	}
	opts.Personas = personas
	if err := errors.Join(problems...); err != nil {
		return opts, "", fmt.Errorf("devidp options: %w", err)
	}
	return opts, u.Path, nil
}

// ServeHTTP serves discovery, JWKS, authorize, token, userinfo, end_session and the sign-in page.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.handler.ServeHTTP(w, r)
}

// Issuer is the issuer URL, without a trailing slash; the iss of every token.
func (p *Provider) Issuer() string { return p.issuer }

// KeySet is the public signing key, for verifiers in the same process. It is also served at
// the jwks_uri of discovery.
func (p *Provider) KeySet() *jose.JSONWebKeySet {
	k := p.storage.key
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:       &k.key.PublicKey,
		KeyID:     k.id,
		Algorithm: string(k.algorithm),
		Use:       "sig",
	}}}
}

// Stats returns the counters so far.
func (p *Provider) Stats() Stats {
	return Stats{
		SignIns:          int(p.stats.signIns.Load()),
		CodeExchanges:    int(p.stats.codeExchanges.Load()),
		Refreshes:        int(p.stats.refreshes.Load()),
		RefusedRefreshes: int(p.stats.refusedRefreshes.Load()),
		SignOuts:         int(p.stats.signOuts.Load()),
	}
}

// RevokeRefreshTokens makes every refresh token of the user fail with invalid_grant, as when
// Entra ID revokes a user's sessions. Access tokens already issued stay valid until they expire.
func (p *Provider) RevokeRefreshTokens(objectID string) {
	p.storage.revokeRefreshTokens(objectID)
}
