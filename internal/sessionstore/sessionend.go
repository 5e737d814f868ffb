package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/sessions"
)

// ErrNotDeleted means a session was ended in the browser (its cookie expired) but the
// store did not answer to delete it: it is deleted once the store answers, and until then this
// process refuses it.
var ErrNotDeleted = errors.New("the session store did not answer; the session will be deleted when it does")

// End ends the session the request's cookie names: the cookie is expired whatever happens, then
// the stored session is deleted. When the store does not answer, the deletion is retried in the
// background and End returns ErrNotDeleted.
func (s *sealedStore) End(r *http.Request, w http.ResponseWriter, name string) error {
	opts := *s.options
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(name, "", &opts))
	c, err := r.Cookie(name)
	if err != nil {
		return nil
	}
	id, err := s.cache.sessionID(name, c.Value, s.codecs, s.lifetime)
	if err != nil || !validSessionID(id) {
		return nil // not a session of ours: nothing stored to delete
	}
	s.cache.forget(id)
	if err := s.backend.remove(r.Context(), id); err != nil {
		s.deletions.add(id)
		return fmt.Errorf("delete session: %w: %w", ErrNotDeleted, err)
	}
	return nil
}

// maxPendingDeletions bounds the sessions waiting to be deleted: each is a signed-in person's
// sign-out during an outage, so the bound is only reached by a long outage on a busy app.
const maxPendingDeletions = 10_000

// pendingDeletions are ended sessions the store did not delete yet. A goroutine retries them,
// with a growing pause, while any are left.
type pendingDeletions struct {
	remove func(ctx context.Context, id string) error
	log    atomic.Pointer[slog.Logger]

	count   atomic.Int64 // len(ids), read without the lock on every session read
	mu      sync.Mutex
	ids     map[string]struct{}
	running bool
}

func (p *pendingDeletions) add(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids == nil {
		p.ids = map[string]struct{}{}
	}
	if len(p.ids) >= maxPendingDeletions {
		p.logger().Error("session not deleted, and too many are waiting to be: it will expire with its lifetime")
		return
	}
	p.ids[id] = struct{}{}
	p.count.Store(int64(len(p.ids)))
	if !p.running {
		p.running = true
		go p.retry()
	}
}

// has reports whether id was ended and waits to be deleted: such a session is not served.
func (p *pendingDeletions) has(id string) bool {
	if p.count.Load() == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.ids[id]
	return ok
}

func (p *pendingDeletions) retry() {
	pause := time.Second
	for {
		time.Sleep(pause)
		p.mu.Lock()
		ids := make([]string, 0, len(p.ids))
		for id := range p.ids {
			ids = append(ids, id)
		}
		p.mu.Unlock()
		deleted := 0
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := p.remove(ctx, id)
			cancel()
			if err != nil {
				break // the store still does not answer: try them all again later
			}
			p.mu.Lock()
			delete(p.ids, id)
			p.count.Store(int64(len(p.ids)))
			p.mu.Unlock()
			deleted++
		}
		if deleted > 0 {
			p.logger().Info("sessions ended during a session store outage are now deleted", "count", deleted)
		}
		p.mu.Lock()
		if len(p.ids) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		pause = min(2*pause, 30*time.Second)
	}
}

func (p *pendingDeletions) logger() *slog.Logger {
	if l := p.log.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// SetLogger names where the store reports the deletions it retries.
func (s *sealedStore) SetLogger(log *slog.Logger) { s.deletions.log.Store(log) }
