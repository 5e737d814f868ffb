package auth

import (
	"encoding/gob"
	"net/http"
	"net/url"
	"time"
)

// keptLifetime bounds how long typed values wait for their owner to sign in again.
const keptLifetime = 15 * time.Minute

type keptForm struct {
	Values url.Values
	Kept   time.Time
}

func init() { gob.Register(keptForm{}) }

// KeepFormValues holds what a person typed while their session ends, on the server (in the
// store, referenced by the sign-in cookie, never in a URL), so that after signing in again they
// find it in the form. Only one form is kept per browser; a newer one replaces it.
func (m *Manager) KeepFormValues(w http.ResponseWriter, r *http.Request, v url.Values) error {
	s, _ := m.cfg.Store.New(r, signInCookie)
	s.Values["kept"] = keptForm{Values: v, Kept: m.cfg.Now()}
	s.Options.MaxAge = int(keptLifetime / time.Second)
	return s.Save(r, w)
}

// TakeKeptFormValues returns the kept values once, or nil when none are waiting (or they are
// older than 15 minutes).
func (m *Manager) TakeKeptFormValues(w http.ResponseWriter, r *http.Request) url.Values {
	s, err := m.cfg.Store.New(r, signInCookie)
	if err != nil || s.IsNew {
		return nil
	}
	k, ok := s.Values["kept"].(keptForm)
	if !ok {
		return nil
	}
	delete(s.Values, "kept")
	if err := s.Save(r, w); err != nil {
		m.log.Warn("could not drop kept form values", "err", err)
	}
	if m.cfg.Now().Sub(k.Kept) > keptLifetime {
		return nil
	}
	return k.Values
}
