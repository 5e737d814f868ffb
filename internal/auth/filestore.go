package auth

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// FileStore keeps sessions in files, one per session, encrypted and signed with the session
// keys; the cookie holds only the signed and encrypted session id. Sessions survive a restart.
//
// It replaces gorilla's FilesystemStore, which truncates a session's file and then writes it:
// a write that fails halfway (a full disk) left half a session, and the person signed out. Here
// a write goes to a temporary file that is synced and then renamed over the old one, so a
// failed write leaves the old session whole.
type FileStore struct {
	dir     string
	codecs  []securecookie.Codec
	options *sessions.Options
	// writeFile replaces a file's contents atomically; tests swap in one that fails halfway.
	writeFile func(path string, data []byte) error
	cache     *sessionCache
	lifetime  time.Duration
}

const sessionFilePrefix = "session_"

// NewFileStore keeps sessions in files under dir, encrypted and signed with keyPairs (the first
// pair for new data; older pairs still read).
func NewFileStore(dir string, opts CookieOptions, keyPairs ...[]byte) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("session directory: %w", err)
	}
	return &FileStore{dir: dir, codecs: sessionCodecs(opts, keyPairs), options: opts.sessionOptions(), writeFile: writeFileAtomically,
		cache: newSessionCache(), lifetime: opts.Lifetime}, nil
}

// sessionCodecs seal a session's contents and its cookie, for every store.
func sessionCodecs(opts CookieOptions, keyPairs [][]byte) []securecookie.Codec {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(opts.Lifetime / time.Second))
			sc.MaxLength(maxSessionBytes)
		}
	}
	return codecs
}

// Get returns the session cached for this request, or loads it.
func (s *FileStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session the request's cookie names. Without a cookie, or when the session is
// gone, it returns a new session; with a cookie it cannot decode it returns a new session and
// the error, as gorilla's stores do.
func (s *FileStore) New(r *http.Request, name string) (*sessions.Session, error) {
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
	path := s.path(id)
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.cache.forget(id)
		return session, nil
	case err != nil:
		return session, fmt.Errorf("read session file: %w: %w", ErrSessionStoreUnavailable, err)
	}
	stamp := fileStamp(info)
	if values, ok := s.cache.get(id, stamp); ok {
		session.Values, session.ID, session.IsNew = values, id, false
		return session, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return session, nil
	case err != nil:
		return session, fmt.Errorf("read session file: %w: %w", ErrSessionStoreUnavailable, err)
	}
	if err := securecookie.DecodeMulti(name, string(data), &session.Values, s.codecs...); err != nil {
		return session, fmt.Errorf("decode session: %w", err)
	}
	// Cached under the stamp read before the contents: if the file changed in between, the
	// next read sees another stamp and reads it again.
	s.cache.put(id, stamp, session.Values)
	session.ID, session.IsNew = id, false
	return session, nil
}

// fileStamp identifies one version of a session file: every write renames a new file into place.
func fileStamp(info fs.FileInfo) string {
	st, _ := info.Sys().(*syscall.Stat_t)
	var ino uint64
	if st != nil {
		ino = st.Ino
	}
	return fmt.Sprintf("%d:%d:%d", ino, info.Size(), info.ModTime().UnixNano())
}

// Save writes the session and its cookie; a negative MaxAge deletes both.
func (s *FileStore) Save(_ *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	if session.Options.MaxAge < 0 {
		if session.ID != "" {
			s.cache.forget(session.ID)
			if err := os.Remove(s.path(session.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("delete session file: %w", err)
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
	s.cache.forget(session.ID)
	if err := s.writeFile(s.path(session.ID), []byte(data)); err != nil {
		return fmt.Errorf("write session file: %w", err)
	}
	cookie, err := securecookie.EncodeMulti(session.Name(), session.ID, s.codecs...)
	if err != nil {
		return fmt.Errorf("encode session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(session.Name(), cookie, session.Options))
	return nil
}

// Probe writes, reads back and removes a small file the way sessions are written, so that
// readiness fails on a full or read-only data directory.
func (s *FileStore) Probe(context.Context) error {
	path := filepath.Join(s.dir, ".probe")
	want := []byte(randomString())
	if err := s.writeFile(path, want); err != nil {
		return fmt.Errorf("session store (files) cannot write: %w", err)
	}
	defer os.Remove(path)
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		return fmt.Errorf("session store (files) cannot read back what it wrote: %v", err)
	}
	return nil
}

func (s *FileStore) path(id string) string { return filepath.Join(s.dir, sessionFilePrefix+id) }

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

// writeFileAtomically replaces path's contents, or leaves the old ones whole: the data goes to
// a temporary file beside it, which is synced, then renamed over path.
func writeFileAtomically(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
