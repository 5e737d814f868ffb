package auth

import (
	"crypto/subtle"
	mathrand "math/rand/v2"
	"net/http"
	"strconv"
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
	// pendingSlots is how many sign-ins one browser may have under way (several tabs). They
	// have fixed names, pcs_signin_0 and on, so that tabs starting at once with the same
	// cookies overwrite each other's rather than add up: three, each under 1.4 KB with the
	// longest return target, keep what the browser sends to the sign-in routes far below the
	// 8 KB of a header that proxies accept.
	pendingSlots = 3
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

func pendingSlotName(slot int) string { return pendingCookiePrefix + strconv.Itoa(slot) }

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
	if err := m.pending.write(w, m.freePendingSlot(w, r), p); err != nil {
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

// freePendingSlot names the cookie for one more sign-in: a slot that is free (absent, expired or
// unreadable), picked at random so that tabs starting together spread over the free ones, else
// the oldest sign-in's. Cookies of other names under the prefix (an older release's) are dropped.
func (m *Manager) freePendingSlot(w http.ResponseWriter, r *http.Request) string {
	var free []string
	oldest, oldestAt := "", time.Time{}
	for slot := range pendingSlots {
		name := pendingSlotName(slot)
		var p pendingSignIn
		if !m.pending.read(r, name, &p) || m.cfg.Now().Sub(p.Created) > pendingLifetime {
			free = append(free, name)
		} else if oldest == "" || p.Created.Before(oldestAt) {
			oldest, oldestAt = name, p.Created
		}
	}
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, pendingCookiePrefix) && !isPendingSlot(c.Name) {
			m.pending.clear(w, c.Name)
		}
	}
	if len(free) > 0 {
		return free[mathrand.IntN(len(free))]
	}
	return oldest
}

func isPendingSlot(name string) bool {
	for slot := range pendingSlots {
		if name == pendingSlotName(slot) {
			return true
		}
	}
	return false
}

// takePending returns the pending sign-in whose state came back, and drops its cookie, so each
// state is used once in this browser (the provider refuses a used code anyway).
func (m *Manager) takePending(w http.ResponseWriter, r *http.Request, state string) (pendingSignIn, bool) {
	if state == "" {
		return pendingSignIn{}, false
	}
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, pendingCookiePrefix) {
			continue
		}
		var p pendingSignIn
		if !m.pending.read(r, c.Name, &p) || subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) != 1 {
			continue
		}
		m.pending.clear(w, c.Name)
		return p, m.cfg.Now().Sub(p.Created) <= pendingLifetime
	}
	return pendingSignIn{}, false
}
