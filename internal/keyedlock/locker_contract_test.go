package keyedlock

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pcsupport/internal/testkit/redistest"
)

// locker is what the app needs of a keyed lock (a session's refresh, a partner's saves).
type locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// lockerContract is one test suite for every keyed lock. newLockers returns lockers that share
// their locks, as replicas do.
func lockerContract(t *testing.T, newLockers func(t *testing.T) (locker, locker)) {
	t.Run("one holder per key across lockers", func(t *testing.T) {
		t.Parallel()
		a, b := newLockers(t)
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			l := []locker{a, b}[i%2]
			wg.Go(func() {
				unlock, err := l.Lock(t.Context(), "session-1")
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				unlock()
			})
		}
		wg.Wait()
		if most.Load() != 1 {
			t.Errorf("%d holders at once", most.Load())
		}
	})

	t.Run("other keys do not wait; the wait is bounded", func(t *testing.T) {
		t.Parallel()
		a, b := newLockers(t)
		unlock, err := a.Lock(t.Context(), "session-a")
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		other, err := b.Lock(t.Context(), "session-b")
		if err != nil {
			t.Fatalf("another key waits: %v", err)
		}
		other()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := b.Lock(ctx, "session-a"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("waiting for a held lock past the deadline: %v, want DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Errorf("gave up after %v", waited)
		}
	})

	t.Run("unlocking frees the key for the other locker", func(t *testing.T) {
		t.Parallel()
		a, b := newLockers(t)
		unlock, err := a.Lock(t.Context(), "session-c")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() {
			u, err := b.Lock(t.Context(), "session-c")
			if err == nil {
				u()
			}
			got <- err
		}()
		time.Sleep(30 * time.Millisecond)
		unlock()
		select {
		case err := <-got:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(2 * time.Second):
			t.Error("the waiting locker did not get the lock after it was freed")
		}
	})
}

func TestLocks(t *testing.T) {
	t.Parallel()
	lockerContract(t, func(t *testing.T) (locker, locker) {
		l := &Locks{}
		return l, l // one process: replicas cannot share it, only requests can
	})
}

func TestRedis(t *testing.T) {
	t.Parallel()
	client := redistest.Start(t).Client(t)
	lockerContract(t, func(t *testing.T) (locker, locker) {
		return NewRedis(client, "test:", 15*time.Second), NewRedis(client, "test:", 15*time.Second)
	})

	// A replica that dies holding the lock holds it for its TTL only, and when it comes back to
	// life late its unlock must not free the lock someone else holds by then.
	t.Run("a dead holder's lock expires; its late unlock frees nothing", func(t *testing.T) {
		dying, next, third := NewRedis(client, "test:", 200*time.Millisecond), NewRedis(client, "test:", 15*time.Second), NewRedis(client, "test:", 15*time.Second)
		lateUnlock, err := dying.Lock(t.Context(), "session-d")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		unlock, err := next.Lock(t.Context(), "session-d")
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		if waited := time.Since(start); waited < 150*time.Millisecond || waited > 2*time.Second {
			t.Errorf("took the expired lock after %v, want about 200ms", waited)
		}
		lateUnlock()
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		if u, err := third.Lock(ctx, "session-d"); err == nil {
			u()
			t.Error("the dead holder's late unlock freed the lock another replica holds")
		}
	})
}
