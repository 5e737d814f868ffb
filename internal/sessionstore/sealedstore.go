package sessionstore

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// sessionBackend is where sealed sessions lie (files, Redis): the one part of a session store
// that differs between them.
type sessionBackend interface {
	// version says which state of the session the backend holds (stamp), or that it holds none.
	// A backend that can tell without reading the session (a file's identity) returns no data;
	// one that cannot (Redis) reads it and returns it with its stamp.
	version(ctx context.Context, id string) (stamp, data string, found bool, err error)
	// read returns the session's data; called only when version returned none.
	read(ctx context.Context, id string) (data string, found bool, err error)
	write(ctx context.Context, id, data string, ttl time.Duration) error
	remove(ctx context.Context, id string) error
}

// sealedStore is a gorilla/sessions store over a backend: the session's values are encrypted and
// signed with the session keys at rest, the cookie holds only the signed and encrypted session
// id, and decoded sessions are kept in a sessionCache that the backend's stamp validates.
type sealedStore struct {
	backend   sessionBackend
	codecs    []securecookie.Codec
	options   *sessions.Options
	lifetime  time.Duration
	cache     *sessionCache
	deletions *pendingDeletions // ended sessions the backend did not delete yet
}

func newSealedStore(backend sessionBackend, opts CookieOptions, keyPairs [][]byte) *sealedStore {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(opts.Lifetime / time.Second))
			sc.MaxLength(maxSessionBytes)
		}
	}
	return &sealedStore{backend: backend, codecs: codecs, options: opts.sessionOptions(), lifetime: opts.Lifetime, cache: newSessionCache(),
		deletions: &pendingDeletions{remove: backend.remove}}
}

// Get returns the session cached for this request by gorilla's registry, or loads it.
func (s *sealedStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session the request's cookie names. Without a cookie, or when the session is
// gone (expired, deleted), it returns a new session; with a cookie it cannot decode (tampered,
// unknown keys) it returns a new session and the error, as gorilla's stores do.
func (s *sealedStore) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := *s.options
	session.Options = &opts
	session.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return session, nil
	}
	id, err := s.cache.sessionID(name, c.Value, s.codecs, s.lifetime)
	if err != nil {
		return session, err
	}
	if !validSessionID(id) {
		return session, errors.New("session id is malformed")
	}
	if s.deletions.has(id) {
		return session, nil // signed out during an outage; deleted once the store answers
	}
	stamp, data, found, err := s.backend.version(r.Context(), id)
	if err != nil {
		return session, fmt.Errorf("read session: %w: %w", ErrUnavailable, err)
	}
	if !found {
		s.cache.forget(id)
		return session, nil
	}
	if values, ok := s.cache.get(id, stamp); ok {
		session.Values, session.ID, session.IsNew = values, id, false
		return session, nil
	}
	if data == "" {
		// Cached below under the stamp read before the data: if the session changed in between,
		// the next read sees another stamp and reads it again.
		if data, found, err = s.backend.read(r.Context(), id); err != nil {
			return session, fmt.Errorf("read session: %w: %w", ErrUnavailable, err)
		} else if !found {
			return session, nil
		}
	}
	if err := securecookie.DecodeMulti(name, data, &session.Values, s.codecs...); err != nil {
		return session, fmt.Errorf("decode session: %w", err)
	}
	s.cache.put(id, stamp, session.Values)
	session.ID, session.IsNew = id, false
	return session, nil
}

// Save writes the session and its cookie; a negative MaxAge deletes both.
func (s *sealedStore) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	if session.ID != "" {
		s.cache.forget(session.ID)
	}
	if session.Options.MaxAge < 0 {
		if session.ID != "" {
			if err := s.backend.remove(r.Context(), session.ID); err != nil {
				return fmt.Errorf("delete session: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", session.Options))
		return nil
	}
	if session.ID == "" {
		session.ID = newSessionID()
	}
	data, err := securecookie.EncodeMulti(session.Name(), session.Values, s.codecs...)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	ttl := time.Duration(session.Options.MaxAge) * time.Second
	if ttl == 0 || ttl > s.lifetime {
		ttl = s.lifetime // the codecs refuse anything older anyway
	}
	if err := s.backend.write(r.Context(), session.ID, data, ttl); err != nil {
		return fmt.Errorf("write session: %w", err)
	}
	cookie, err := securecookie.EncodeMulti(session.Name(), session.ID, s.codecs...)
	if err != nil {
		return fmt.Errorf("encode session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(session.Name(), cookie, session.Options))
	return nil
}

func newSessionID() string {
	return strings.TrimRight(base32.StdEncoding.EncodeToString(securecookie.GenerateRandomKey(32)), "=")
}

// validSessionID accepts only ids newSessionID could have made, so an id can never name a
// path outside the store (the cookie is signed anyway).
func validSessionID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}
