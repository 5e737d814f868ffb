package floor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"pcsupport/internal/devsignin"
)

// Registration is the proxy's registration with the dev provider.
type Registration struct {
	ProviderURL, ClientID, Secret string
	Redirect                      string // never served: the sign-in stops at the redirect and reads the code from it
	Scope                         string // the Partner Center scope
}

// SignIn does the authorization code flow with PKCE (x/oauth2) as persona, for the token the
// proxy sends, and returns the Config that hands it over.
func SignIn(ctx context.Context, reg Registration, persona, upstream string) (Config, error) {
	provider, err := oidc.NewProvider(ctx, reg.ProviderURL)
	if err != nil {
		return Config{}, fmt.Errorf("proxy token: discover the dev provider: %w", err)
	}
	oc := &oauth2.Config{ClientID: reg.ClientID, ClientSecret: reg.Secret, Endpoint: provider.Endpoint(),
		RedirectURL: reg.Redirect, Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, reg.Scope}}
	verifier, state := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), reg.Redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := devsignin.SignIn(ctx, c, oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), persona)
	if err != nil {
		return Config{}, fmt.Errorf("proxy token: %w", err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("state") != state || back.Query().Get("code") == "" {
		return Config{}, errors.New("proxy token: the dev provider sent no code back")
	}
	tok, err := oc.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return Config{}, fmt.Errorf("proxy token: %w", err)
	}
	return Config{Upstream: upstream, TokenURL: provider.Endpoint().TokenURL, ClientID: reg.ClientID,
		ClientSecret: reg.Secret, Token: tok}, nil
}
