package auth

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"net/http"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

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

// NewFilesystemStore keeps sessions in files under dir, encrypted and signed with keyPairs, so
// that sessions survive a restart. The cookie holds only the signed and encrypted session id.
func NewFilesystemStore(dir string, opts CookieOptions, keyPairs ...[]byte) (*sessions.FilesystemStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("session directory: %w", err)
	}
	s := sessions.NewFilesystemStore(dir, keyPairs...)
	s.MaxLength(maxSessionBytes)
	s.Options = opts.sessionOptions()
	for _, c := range s.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(opts.Lifetime / time.Second))
		}
	}
	return s, nil
}

// SweepFilesystemSessions deletes session files not written for longer than lifetime, every
// interval, until ctx ends: the filesystem store never deletes abandoned sessions itself.
func SweepFilesystemSessions(ctx context.Context, dir string, lifetime, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		removed := sweepOnce(dir, time.Now().Add(-lifetime))
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

func sweepOnce(dir string, before time.Time) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "session_") {
			continue
		}
		info, err := e.Info()
		if err == nil && info.ModTime().Before(before) && os.Remove(filepath.Join(dir, e.Name())) == nil {
			removed++
		}
	}
	return removed
}
