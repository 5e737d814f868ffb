package auth

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"
)

const (
	keptCookie = "pcs_kept"
	// keptLifetime bounds how long typed values wait for their owner to sign in again.
	keptLifetime = 15 * time.Minute

	identityCookie = "pcs_who"
	// identityOutlives is how long the identity cookie outlives the session: a form left open
	// overnight still knows whose values it holds.
	identityOutlives = 24 * time.Hour
)

// ErrNoOwner means typed values could not be kept: nobody is known to have typed them (the
// session ended and this browser signed out), and values without an owner are never shown.
var ErrNoOwner = errors.New("no known owner for the typed values")

// keptForm is what a person typed when their session ended, sealed in a cookie with whose it is.
type keptForm struct {
	Values url.Values `json:"v"`
	Owner  string     `json:"o"`
}

// identity names who last signed in on this browser. It outlives the server-side session, so
// that typed values sent after the session expired can still be kept for that person; sign-out
// ends it.
type identity struct {
	Owner string `json:"o"`
}

// ownerKey names a person the same way across sign-ins: the Entra tenant and object ids when
// the provider gives them, else the provider's subject.
func (u User) ownerKey() string {
	if u.TenantID != "" && u.ObjectID != "" {
		return "oid:" + u.TenantID + "/" + u.ObjectID
	}
	return "sub:" + u.Subject
}

// KeepFormValues keeps what a person typed while their session ends, in a sealed cookie (never
// on the server, never in a URL), for the person signed in or, when the session has ended, the
// one this browser's identity cookie names. With neither it keeps nothing and returns
// ErrNoOwner. Only one form is kept per browser; a newer one replaces it.
func (m *Manager) KeepFormValues(w http.ResponseWriter, r *http.Request, v url.Values) error {
	owner := m.knownPerson(r)
	if owner == "" {
		return ErrNoOwner
	}
	return m.kept.write(w, keptCookie, keptForm{Values: v, Owner: owner})
}

func (m *Manager) knownPerson(r *http.Request) string {
	if _, d, err := m.load(r); err == nil {
		return d.User.ownerKey()
	}
	var who identity
	if m.identity.read(r, identityCookie, &who) {
		return who.Owner
	}
	return ""
}

// TakeKeptFormValues returns the kept values once, when they belong to the person signed in
// now; otherwise it drops them (another person signing in on the same browser never sees them).
func (m *Manager) TakeKeptFormValues(w http.ResponseWriter, r *http.Request) url.Values {
	if _, err := r.Cookie(keptCookie); err != nil {
		return nil
	}
	m.kept.clear(w, keptCookie)
	var k keptForm
	if !m.kept.read(r, keptCookie, &k) || k.Owner == "" {
		return nil
	}
	_, d, err := m.load(r)
	if err != nil || subtle.ConstantTimeCompare([]byte(k.Owner), []byte(d.User.ownerKey())) != 1 {
		return nil
	}
	return k.Values
}
