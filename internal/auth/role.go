package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	// roleCookie remembers on the person's browser that Partner Center refused their save for
	// their role, so that the page shows the values read-only instead of a form that cannot
	// succeed. A cookie, sealed: the app keeps nothing of it on the server.
	roleCookie = "pcs_role"
	// roleRefusalLasts is how long such a refusal is believed: roles change, and a day later
	// the form is offered again.
	roleRefusalLasts = 24 * time.Hour
)

// roleRefusal is a refusal for the role: whose, and the directory roles they had then (another
// set of roles may be able to save).
type roleRefusal struct {
	Owner string    `json:"o"`
	Roles string    `json:"r"`
	At    time.Time `json:"t"`
}

// RememberRoleRefusal notes that Partner Center refused the signed-in person's save for their
// role, for a day or until their directory roles change.
func (m *Manager) RememberRoleRefusal(w http.ResponseWriter, r *http.Request) error {
	_, d, err := m.load(r)
	if err != nil {
		return err
	}
	return m.roles.write(w, roleCookie, roleRefusal{Owner: d.User.ownerKey(), Roles: rolesKey(d.User), At: m.cfg.Now()})
}

// RoleRefused reports that Partner Center refused the signed-in person's save for their role
// within the last day, with the directory roles they have now.
func (m *Manager) RoleRefused(r *http.Request) bool {
	var rr roleRefusal
	if !m.roles.read(r, roleCookie, &rr) {
		return false
	}
	_, d, err := m.load(r)
	return err == nil && subtle.ConstantTimeCompare([]byte(rr.Owner), []byte(d.User.ownerKey())) == 1 &&
		rr.Roles == rolesKey(d.User) && m.cfg.Now().Sub(rr.At) <= roleRefusalLasts
}

// ForgetRoleRefusal drops the note: the person saved, or asked to try anyway.
func (m *Manager) ForgetRoleRefusal(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(roleCookie); err == nil {
		m.roles.clear(w, roleCookie)
	}
}

// rolesKey names a set of directory roles in a few bytes, whatever their order.
func rolesKey(u User) string {
	roles := slices.Sorted(slices.Values(u.DirectoryRoles))
	sum := sha256.Sum256([]byte(strings.Join(roles, " ")))
	return hex.EncodeToString(sum[:8])
}
