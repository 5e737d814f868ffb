package auth

import (
	"crypto/subtle"
	"net/http"
	"time"
)

const (
	// flashCookie carries a one-time message to the page a redirect leads to (the no-JavaScript
	// save answers with a redirect, and the message must survive it). A cookie, not the session:
	// the message must not depend on writing the session store, which may be full or down just
	// when Partner Center took the save.
	flashCookie = "pcs_flash"
	// flashLifetime bounds how long the message waits for its page.
	flashLifetime = 5 * time.Minute
)

// flash is the one-time message, sealed with whose it is.
type flash struct {
	Value []byte `json:"v"`
	Owner string `json:"o"`
}

// AddFlash keeps a one-time message for the signed-in person's next page.
func (m *Manager) AddFlash(w http.ResponseWriter, r *http.Request, value []byte) error {
	_, d, err := m.load(r)
	if err != nil {
		return err
	}
	return m.flashes.write(w, flashCookie, flash{Value: value, Owner: d.User.ownerKey()})
}

// TakeFlash returns the one-time message, if any, and tells the browser to drop it: it is shown
// once at most, and only to the person it was kept for.
func (m *Manager) TakeFlash(w http.ResponseWriter, r *http.Request) []byte {
	if _, err := r.Cookie(flashCookie); err != nil {
		return nil
	}
	m.flashes.clear(w, flashCookie)
	var f flash
	if !m.flashes.read(r, flashCookie, &f) {
		return nil
	}
	_, d, err := m.load(r)
	if err != nil || subtle.ConstantTimeCompare([]byte(f.Owner), []byte(d.User.ownerKey())) != 1 {
		return nil
	}
	return f.Value
}
