// Package sessionstore keeps the server-side sessions: sealed (encrypted and signed with the
// session keys) in files for one replica or in Redis for several, behind one contract suite,
// with a cache of decoded sessions that asks the store on every read whether one changed.
package sessionstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/sessions"
)

// Store keeps server-side sessions (FileStore, RedisStore): a gorilla/sessions store that can
// also end a session when its backend does not answer.
type Store interface {
	sessions.Store
	// End expires the session cookie and deletes the stored session; ErrNotDeleted when the
	// backend did not answer (the deletion is retried).
	End(r *http.Request, w http.ResponseWriter, name string) error
}

// ErrUnavailable means the sessions cannot be read right now (Redis down): not the same as
// being signed out, since signing in again would fail as well.
var ErrUnavailable = errors.New("session store unavailable")

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CookieOptions are the attributes of every cookie the app sets.
type CookieOptions struct {
	Path     string        // the base path, so the cookie goes only to this app
	Secure   bool          // true when the public URL is https
	Lifetime time.Duration // how long a session lasts after sign-in
}

func (o CookieOptions) sessionOptions() *sessions.Options {
	return &sessions.Options{
		Path:     o.Path,
		MaxAge:   int(o.Lifetime / time.Second),
		HttpOnly: true,
		Secure:   o.Secure,
		SameSite: http.SameSiteLaxMode, // the sign-in provider's redirect back is a top-level GET
	}
}

// maxSessionBytes bounds what one server-side session may hold: Entra ID tokens are several KB,
// far above securecookie's 4 KB default that is meant for cookies.
const maxSessionBytes = 64 << 10

// SweepFileSessions deletes session files not written for longer than lifetime, and temporary
// files a crash left behind, every interval, until ctx ends: abandoned sessions are never
// deleted otherwise.
func SweepFileSessions(ctx context.Context, dir string, lifetime, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		removed := sweepOnce(dir, time.Now().Add(-lifetime), time.Now().Add(-time.Minute))
		if removed > 0 {
			log.Debug("removed expired session files", "count", removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sweepOnce(dir string, sessionsBefore, tempBefore time.Time) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		var before time.Time
		switch {
		case strings.HasPrefix(e.Name(), sessionFilePrefix):
			before = sessionsBefore
		case strings.HasPrefix(e.Name(), ".tmp-"):
			before = tempBefore
		default:
			continue
		}
		info, err := e.Info()
		if err == nil && info.ModTime().Before(before) && os.Remove(filepath.Join(dir, e.Name())) == nil {
			removed++
		}
	}
	return removed
}
