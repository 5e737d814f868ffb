package auth

import "net/http"

// AddFlash keeps a one-time message in the session, for the page a redirect leads to (the
// no-JavaScript save answers with a redirect, and the message must survive it).
func (m *Manager) AddFlash(w http.ResponseWriter, r *http.Request, value []byte) error {
	s, _, err := m.load(r)
	if err != nil {
		return err
	}
	s.AddFlash(value)
	return s.Save(r, w)
}

// TakeFlash returns the one-time message, if any, and removes it.
func (m *Manager) TakeFlash(w http.ResponseWriter, r *http.Request) []byte {
	s, _, err := m.load(r)
	if err != nil {
		return nil
	}
	flashes := s.Flashes()
	if len(flashes) == 0 {
		return nil
	}
	if err := s.Save(r, w); err != nil {
		m.log.Warn("could not clear flash", "err", err)
	}
	b, _ := flashes[len(flashes)-1].([]byte)
	return b
}
