package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/securecookie"
	"golang.org/x/oauth2"
)

// What the watch of changes made outside the app (internal/watch) needs of the sign-in: a
// delegated refresh token of its own, kept by the app and renewed at each use (Microsoft's
// "secure application model"), and the seal that keeps it unreadable at rest.

// ErrRefreshRefused means the sign-in provider refused a refresh token (invalid_grant: revoked,
// expired, or a new sign-in demanded by MFA or Conditional Access): it will not work again.
var ErrRefreshRefused = errors.New("refresh token refused")

// RefusedError is a refused refresh token with the provider's words (never the token).
type RefusedError struct{ Code, Description string }

func (e *RefusedError) Error() string {
	if e.Description == "" {
		return "refresh token refused (" + e.Code + ")"
	}
	return "refresh token refused (" + e.Code + ": " + e.Description + ")"
}

func (e *RefusedError) Unwrap() error { return ErrRefreshRefused }

// HandOverRefreshToken gives the caller the signed-in person's refresh token for a watch: it
// redeems the session's refresh token once (so the person's sign-in is known to still work, and
// the provider rotates it), keeps the new access token in the session and hands over the new
// refresh token. The session keeps no refresh token from then on: providers that rotate refresh
// tokens accept each one once, and the watch and the session must not spend each other's. When
// the session's access token expires the person signs in again, as after any refused refresh.
func (m *Manager) HandOverRefreshToken(w http.ResponseWriter, r *http.Request) (string, error) {
	s, d, err := m.load(r)
	if err != nil {
		return "", err
	}
	unlock, err := m.locks.Lock(r.Context(), s.ID)
	if err != nil {
		return "", fmt.Errorf("refresh lock of the session: %w", err)
	}
	defer unlock()
	if s, d, err = m.loadFromStore(r); err != nil {
		return "", err
	}
	if d.Tokens.Refresh == "" {
		return "", fmt.Errorf("the session keeps no refresh token: %w", ErrSignInRequired)
	}
	tok, err := m.RedeemRefreshToken(r.Context(), d.Tokens.Refresh)
	if err != nil {
		if errors.Is(err, ErrRefreshRefused) {
			return "", fmt.Errorf("%w: %w", err, ErrSignInRequired)
		}
		return "", err
	}
	handed := tok.RefreshToken
	if handed == "" {
		handed = d.Tokens.Refresh // a provider that does not rotate: the same token serves
	}
	d.Tokens = d.Tokens.renewedBy(tok, m.cfg.Now())
	d.Tokens.Refresh = ""
	s.Values["data"] = d
	if err := s.Save(r, w); err != nil {
		return "", fmt.Errorf("store the session without its refresh token: %w", err)
	}
	m.log.Info("refresh token handed over to the watch", "user", d.User.Username)
	return handed, nil
}

// RedeemRefreshToken asks the token endpoint for new tokens with refresh, through the same
// client and credential as the sign-in. A refusal wraps ErrRefreshRefused (a *RefusedError);
// anything else (no answer, the provider's own failure) may pass: try again later.
func (m *Manager) RedeemRefreshToken(ctx context.Context, refresh string) (*oauth2.Token, error) {
	oc, _, err := m.discover(ctx)
	if err != nil {
		return nil, err
	}
	grantCtx, cancel := context.WithTimeout(m.ctx(ctx), refreshGrantTimeout)
	defer cancel()
	tok, err := oc.TokenSource(grantCtx, &oauth2.Token{RefreshToken: refresh}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response != nil && re.Response.StatusCode >= 500 {
			return nil, fmt.Errorf("refresh access token: %w: %w", ErrSignInProviderUnavailable, err)
		}
		if re.ErrorCode == "invalid_grant" || re.Response != nil && re.Response.StatusCode == http.StatusBadRequest {
			return nil, &RefusedError{Code: re.ErrorCode, Description: re.ErrorDescription}
		}
		return nil, fmt.Errorf("refresh access token: %s", re.ErrorCode)
	}
	return tok, nil
}

// TokenSeal seals what the app keeps for a watch (a refresh token) with the session keys:
// encrypted and authenticated (securecookie: AES-CTR, then an HMAC-SHA256), bound to its
// tenant. The first key pair seals; all open, so a rotation keeps working until the old pair is
// taken out, which makes what it sealed unreadable.
type TokenSeal struct{ codecs []securecookie.Codec }

// NewTokenSeal returns the seal of the session keys (pairs of signing and encryption keys).
func NewTokenSeal(keyPairs [][]byte) *TokenSeal {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(0)    // the provider says when a refresh token is too old
			sc.MaxLength(0) // not a cookie: refresh tokens may be long
			sc.SetSerializer(securecookie.JSONEncoder{})
		}
	}
	return &TokenSeal{codecs: codecs}
}

// ErrUnsealable means a sealed token cannot be opened: sealed with keys the app no longer has
// (the session keys were rotated), or not sealed by the app.
var ErrUnsealable = errors.New("the kept token cannot be opened with the session keys")

func sealName(tenantID string) string { return "pcs-watch-" + tenantID }

// Seal seals the token of tenantID's watch.
func (ts *TokenSeal) Seal(tenantID, token string) (string, error) {
	sealed, err := securecookie.EncodeMulti(sealName(tenantID), token, ts.codecs...)
	if err != nil {
		return "", fmt.Errorf("seal the watch's token: %w", err)
	}
	return sealed, nil
}

// Open opens what Seal sealed for tenantID; ErrUnsealable otherwise.
func (ts *TokenSeal) Open(tenantID, sealed string) (string, error) {
	var token string
	if err := securecookie.DecodeMulti(sealName(tenantID), sealed, &token, ts.codecs...); err != nil || token == "" {
		return "", ErrUnsealable
	}
	return token, nil
}
