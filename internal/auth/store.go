package auth

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/sessions"
)

// SessionStore keeps server-side sessions (FileStore, RedisStore): a gorilla/sessions store that
// can also end a session when its backend does not answer.
type SessionStore interface {
	sessions.Store
	// End expires the session cookie and deletes the stored session; ErrSessionNotDeleted when
	// the backend did not answer (the deletion is retried).
	End(r *http.Request, w http.ResponseWriter, name string) error
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
