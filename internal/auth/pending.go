package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	// pendingCookiePrefix names the cookies of sign-ins under way, one per sign-in, so that
	// several tabs can sign in at once and each callback finds its own.
	pendingCookiePrefix = "pcs_signin_"
	// pendingLifetime bounds how long a started sign-in may take to come back.
	pendingLifetime = 10 * time.Minute
	// maxPending bounds the sign-ins one browser may have under way (several tabs).
	maxPending = 5
)

// pendingSignIn is what the callback needs to finish a sign-in. It travels in a sealed cookie:
// nothing is kept on the server for someone who has not signed in.
type pendingSignIn struct {
	State    string    `json:"s"`
	Verifier string    `json:"v"`
	Nonce    string    `json:"n"`
	ReturnTo string    `json:"r"`
	Created  time.Time `json:"c"`
}

func pendingCookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return pendingCookiePrefix + hex.EncodeToString(sum[:8])
}

// SignInOptions adjust one sign-in.
type SignInOptions struct {
	LoginHint  string // pre-fills the account (e.g. from the SSO proxy's identity header)
	RequireMFA bool   // asks the provider to sign in again with multi-factor authentication
}

// StartSignIn seals a pending sign-in into a cookie and returns the provider URL to send the
// browser to. returnTo is where the person lands afterwards; anything that is not a page of
// the app (SafeReturnTo) is replaced by the base path.
func (m *Manager) StartSignIn(w http.ResponseWriter, r *http.Request, returnTo string, o SignInOptions) (string, error) {
	oc, _, err := m.discover(r.Context())
	if err != nil {
		return "", err
	}
	p := pendingSignIn{
		State:    randomString(),
		Verifier: oauth2.GenerateVerifier(),
		Nonce:    randomString(),
		ReturnTo: SafeReturnTo(m.cfg.BasePath, returnTo),
		Created:  m.cfg.Now(),
	}
	m.dropOldestPending(w, r)
	if err := m.pending.write(w, pendingCookieName(p.State), p); err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(p.Verifier), oidc.Nonce(p.Nonce)}
	if o.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", o.LoginHint))
	}
	if o.RequireMFA {
		// Entra ID honours amr_values=mfa; prompt=login makes every provider ask again.
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("amr_values", "mfa"))
	}
	return oc.AuthCodeURL(p.State, opts...), nil
}

// dropOldestPending makes room for one more sign-in: past maxPending the oldest are dropped, and
// unreadable or expired ones always are, so the browser's cookies stay few and small.
func (m *Manager) dropOldestPending(w http.ResponseWriter, r *http.Request) {
	type pending struct {
		name    string
		created time.Time
	}
	var live []pending
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, pendingCookiePrefix) {
			continue
		}
		var p pendingSignIn
		if !m.pending.read(r, c.Name, &p) {
			m.pending.clear(w, c.Name)
			continue
		}
		live = append(live, pending{c.Name, p.Created})
	}
	slices.SortFunc(live, func(a, b pending) int { return a.created.Compare(b.created) })
	for len(live) >= maxPending {
		m.pending.clear(w, live[0].name)
		live = live[1:]
	}
}

// takePending returns the pending sign-in whose state came back, and drops its cookie, so each
// state is used once in this browser (the provider refuses a used code anyway).
func (m *Manager) takePending(w http.ResponseWriter, r *http.Request, state string) (pendingSignIn, bool) {
	if state == "" {
		return pendingSignIn{}, false
	}
	name := pendingCookieName(state)
	var p pendingSignIn
	found := m.pending.read(r, name, &p)
	if _, err := r.Cookie(name); err == nil {
		m.pending.clear(w, name)
	}
	if !found || subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) != 1 {
		return pendingSignIn{}, false
	}
	return p, m.cfg.Now().Sub(p.Created) <= pendingLifetime
}
