package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
)

// TokenSource returns the access token of the request's session, refreshing it before it expires
// and storing the rotated refresh token. Its errors wrap ErrNotSignedIn or ErrSignInRequired when
// the person has to sign in again.
func (m *Manager) TokenSource(w http.ResponseWriter, r *http.Request) oauth2.TokenSource {
	return &sessionTokenSource{m: m, w: w, r: r}
}

type sessionTokenSource struct {
	m *Manager
	w http.ResponseWriter
	r *http.Request
}

func (ts *sessionTokenSource) Token() (*oauth2.Token, error) {
	return ts.m.token(ts.w, ts.r, "")
}

// RefreshAfterRejection renews the session's access token when it is still the one an API just
// refused (a 401), so that one silent refresh and retry can follow. A token already replaced by
// another request is kept.
func (m *Manager) RefreshAfterRejection(w http.ResponseWriter, r *http.Request, rejected string) error {
	_, err := m.token(w, r, rejected)
	return err
}

// token returns a usable access token, refreshing it when it is about to expire or when it is
// the rejected one.
func (m *Manager) token(w http.ResponseWriter, r *http.Request, rejected string) (*oauth2.Token, error) {
	usable := func(t storedTokens) bool {
		return t.fresh(m.cfg.Now(), m.cfg.RefreshMargin) && (rejected == "" || t.Access != rejected)
	}
	s, d, err := m.load(r)
	if err != nil {
		return nil, err
	}
	if usable(d.Tokens) {
		return d.Tokens.oauth(), nil
	}

	// One refresh at a time per session, across replicas when the locker is shared: a second
	// request waits, then finds the new token.
	lockCtx, cancel := context.WithTimeout(r.Context(), refreshLockWait)
	unlock, err := m.locks.Lock(lockCtx, s.ID)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("refresh lock of the session: %w", err)
	}
	defer unlock()
	if s, d, err = m.loadFromStore(r); err != nil {
		return nil, err
	}
	if usable(d.Tokens) {
		return d.Tokens.oauth(), nil
	}
	if d.Tokens.Refresh == "" {
		return nil, fmt.Errorf("access token expired and no refresh token: %w", ErrSignInRequired)
	}
	oc, _, err := m.discover(r.Context())
	if err != nil {
		return nil, err
	}
	expired := d.Tokens.oauth()
	expired.AccessToken = "" // force the refresh grant
	grantCtx, cancel := context.WithTimeout(m.ctx(r.Context()), refreshGrantTimeout)
	defer cancel()
	tok, err := oc.TokenSource(grantCtx, expired).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response != nil && re.Response.StatusCode >= 500 {
			// No answer, or the provider's own failure: not a refusal of this person's tokens.
			return nil, fmt.Errorf("refresh access token: %w: %w", ErrSignInProviderUnavailable, err)
		}
		if re.ErrorCode == "invalid_grant" || re.Response != nil && re.Response.StatusCode == http.StatusBadRequest {
			// Another replica may have spent this refresh token and stored the rotated one (its
			// lock expired, or it does not share ours): what it stored is as good as a refresh.
			if _, stored, err := m.loadFromStore(r); err == nil && stored.Tokens.Refresh != expired.RefreshToken && usable(stored.Tokens) {
				m.log.Info("refresh token already rotated by another request; using the stored tokens", "user", d.User.Username)
				return stored.Tokens.oauth(), nil
			}
			m.log.Info("refresh refused; sign-in required", "user", d.User.Username, "error", re.ErrorCode, "description", re.ErrorDescription)
			return nil, fmt.Errorf("refresh token refused (%s %s): %w", re.ErrorCode, re.ErrorDescription, ErrSignInRequired)
		}
		return nil, fmt.Errorf("refresh access token: %w", err)
	}
	d.Tokens = d.Tokens.renewedBy(tok, m.cfg.Now())
	s.Values["data"] = d
	if err := s.Save(r, w); err != nil {
		return nil, fmt.Errorf("store refreshed token: %w", err)
	}
	m.log.Debug("access token refreshed", "user", d.User.Username, "expiry", d.Tokens.Expiry)
	return d.Tokens.oauth(), nil
}
