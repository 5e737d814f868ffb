package auth

import (
	"net/http"
	"net/url"
)

// ProviderSignOutURL is where to send the browser after SignOut so that the person is signed out
// of the provider too (Config.SignOutOfProvider): its end_session_endpoint, which sends them back
// to Config.SignedOutURL. It is "" when the app signs people out of itself only, or when the
// provider has no such endpoint (a warning is logged at discovery). Call it before SignOut: the
// session names whom to sign out.
func (m *Manager) ProviderSignOutURL(r *http.Request) string {
	if !m.cfg.SignOutOfProvider {
		return ""
	}
	if _, _, err := m.discover(r.Context()); err != nil {
		m.log.Warn("sign-out of the provider skipped: discovery failed", "err", err)
		return ""
	}
	m.mu.Lock()
	endpoint := m.endSession
	m.mu.Unlock()
	u, err := url.Parse(endpoint)
	if endpoint == "" || err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", m.cfg.ClientID)
	q.Set("post_logout_redirect_uri", m.cfg.SignedOutURL)
	// A session already gone signs out without hints.
	if _, d, err := m.load(r); err == nil {
		// Entra ID wants its login_hint claim here (not the UPN); without it the person picks
		// the account on the provider's page.
		if d.User.LoginHint != "" {
			q.Set("logout_hint", d.User.LoginHint)
		}
		// ory/hydra, Duende IdentityServer and Connect2id send the person back to
		// post_logout_redirect_uri only with the ID token they issued. A session made before the
		// app kept it signs out without: such a provider then keeps the person signed in there.
		if d.Tokens.IDToken != "" {
			q.Set("id_token_hint", d.Tokens.IDToken)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
