package testkit

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/sessions"
)

// SaveSession saves s in store and returns the one cookie it set.
func SaveSession(t testing.TB, store sessions.Store, s *sessions.Session) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := store.Save(httptest.NewRequest("GET", "/", nil), rec, s); err != nil {
		t.Errorf("save: %v", err)
		return &http.Cookie{Name: s.Name()}
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Errorf("save set %d cookies, want 1", len(cs))
		return &http.Cookie{Name: s.Name()}
	}
	return cs[0]
}

// LoadSession reads the session cookie c names from store (a new session when it cannot).
func LoadSession(store sessions.Store, c *http.Cookie) *sessions.Session {
	s, _ := store.New(RequestWithCookie(c), c.Name) // an error comes with a new session
	return s
}

// RequestWithCookie is a GET carrying the cookie c.
func RequestWithCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	return r
}
