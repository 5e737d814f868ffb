package sessionstore

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"pcsupport/internal/testkit"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// outageBackend is a backend in memory whose deletions fail while it is down.
type outageBackend struct {
	mu   sync.Mutex
	down bool
	data map[string]string
}

func (b *outageBackend) version(_ context.Context, id string) (string, string, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.data[id]
	return d, d, ok, nil
}

func (b *outageBackend) read(_ context.Context, id string) (string, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.data[id]
	return d, ok, nil
}

func (b *outageBackend) write(_ context.Context, id, data string, _ time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data[id] = data
	return nil
}

func (b *outageBackend) remove(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return errors.New("connection refused")
	}
	delete(b.data, id)
	return nil
}

// A session ended while its store cannot delete it is refused at once by this store, and deleted
// as soon as the store answers again.
func TestEndDuringAnOutageDeletesTheSessionLater(t *testing.T) {
	backend := &outageBackend{data: map[string]string{}}
	store := newSealedStore(backend, CookieOptions{Path: "/", Lifetime: time.Hour},
		[][]byte{securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32)})
	var logs testkit.SyncBuffer
	store.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
	s.Values["data"] = realisticSession()
	c := save(t, store, s)

	backend.mu.Lock()
	backend.down = true
	backend.mu.Unlock()
	req := httptest.NewRequest("POST", "/auth/signout", nil)
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	if err := store.End(req, rec, sessionCookie); !errors.Is(err, ErrNotDeleted) {
		t.Fatalf("End with the store down: %v, want ErrNotDeleted", err)
	}
	if cleared := rec.Result().Cookies(); len(cleared) != 1 || cleared[0].MaxAge >= 0 {
		t.Errorf("the cookie was not expired: %+v", cleared)
	}
	if again := load(t, store, c); !again.IsNew {
		t.Error("the ended session still loads from its old cookie while it waits to be deleted")
	}

	backend.mu.Lock()
	backend.down = false
	backend.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		backend.mu.Lock()
		left := len(backend.data)
		backend.mu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ended session was not deleted once the store answered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if store.deletions.has(s.ID) {
		t.Error("the deleted session is still waiting to be deleted")
	}
	// The operator reads in the app's log that the sessions ended during the outage are gone.
	for !strings.Contains(logs.String(), "sessions ended during a session store outage are now deleted") || !strings.Contains(logs.String(), "count=1") {
		if time.Now().After(deadline) {
			t.Fatalf("the log says %q, want the deletion reported", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
