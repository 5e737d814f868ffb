package auth

import (
	"maps"
	"net/http"
	"testing"
	"time"
)

func (b *browser) roleRefused(m *Manager) (refused bool) {
	b.do(m, "GET", "/", func(_ http.ResponseWriter, r *http.Request) { refused = m.RoleRefused(r) })
	return refused
}

func (b *browser) rememberRoleRefusal(m *Manager) {
	b.do(m, "POST", "/save", func(w http.ResponseWriter, r *http.Request) {
		if err := m.RememberRoleRefusal(w, r); err != nil {
			b.t.Fatal(err)
		}
	})
}

// A save refused for the person's role is remembered on their browser for a day, for them only,
// and only while their directory roles are the same; signing out forgets it.
func TestRoleRefusalIsRememberedForThePersonAndTheirRoles(t *testing.T) {
	t.Parallel()
	m, p, clock := clockedApp(t, func(c *Config) { c.SessionLifetime = 48 * time.Hour })
	b := newBrowser(t)
	b.signIn(m, p, ada)
	if b.roleRefused(m) {
		t.Fatal("a refusal before any save")
	}
	b.rememberRoleRefusal(m)
	if !b.roleRefused(m) {
		t.Fatal("the refusal is not remembered")
	}
	clock.Advance(23 * time.Hour)
	if !b.roleRefused(m) {
		t.Error("the refusal is forgotten within the day")
	}
	clock.Advance(2 * time.Hour)
	if b.roleRefused(m) {
		t.Error("the refusal outlives its day")
	}

	b.rememberRoleRefusal(m)
	b.signIn(m, p, bob)
	if b.roleRefused(m) {
		t.Error("Bob, on Ada's browser, is taken for Ada")
	}

	granted := maps.Clone(ada)
	granted["wids"] = []string{"62e90394-69f5-4237-9190-012177145e10"}
	b.signIn(m, p, ada)
	b.rememberRoleRefusal(m)
	b.signIn(m, p, granted)
	if b.roleRefused(m) {
		t.Error("the refusal holds after Ada's roles changed")
	}
	if u, _ := b.currentUser(m); !u.GlobalAdministrator() {
		t.Errorf("the Global Administrator role from wids is not read: %v", u.DirectoryRoles)
	}
}
