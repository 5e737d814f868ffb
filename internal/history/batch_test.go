package history

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// Writes that wait while a transaction commits go in the next one together; each still ends as
// it would alone: one that fails leaves nothing and takes nothing of the others with it, one whose
// caller gave up is not written.
func TestSQLiteWritesCommittedTogetherKeepTheirOwnOutcome(t *testing.T) {
	t.Parallel()
	s := open(t, sqliteSpec(t)).(*SQLiteStore)
	ctx := context.Background()
	gaveUp, cancel := context.WithCancel(ctx)
	cancel()
	boom := errors.New("boom")

	s.batches.turn <- struct{}{} // a batch is committing: the writes below wait for it
	results := map[string]chan error{}
	write := func(name string, do func() error) {
		ch := make(chan error, 1)
		results[name] = ch
		go func() { ch <- do() }()
	}
	write("T1", func() error { return s.Observe(ctx, "T1", contacts("a"), t0) })
	write("T2", func() error {
		return s.write(ctx, "fail after writing", writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
			if err := s.observe(ctx, tx, "T2", contacts("a"), t0); err != nil {
				return err
			}
			return boom
		}})
	})
	write("T3", func() error { return s.Observe(ctx, "T3", contacts("a"), t0) })
	write("T4", func() error { return s.Observe(gaveUp, "T4", contacts("a"), t0) })
	live := len(results) - 1 // T4's caller gave up: it leaves the queue at once
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.batches.mu.Lock()
		n := len(s.batches.waiting)
		s.batches.mu.Unlock()
		if n == live {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes waiting, want %d", n, live)
		}
	}
	<-s.batches.turn

	want := map[string]error{"T1": nil, "T2": boom, "T3": nil, "T4": context.Canceled}
	for name, ch := range results {
		if err := <-ch; !errors.Is(err, want[name]) || (err == nil) != (want[name] == nil) {
			t.Errorf("%s: %v, want %v", name, err, want[name])
		}
	}
	for tenant, entries := range map[string]int{"T1": 1, "T2": 0, "T3": 1, "T4": 0} {
		if got := len(all(t, s, tenant)); got != entries {
			t.Errorf("%s: %d entries, want %d", tenant, got, entries)
		}
	}
}

// A write whose caller gives up while a batch commits ahead of it returns with its context's
// error as soon as it gives up, not when the batch ends, and nothing of it is written.
func TestSQLiteWriteWaitingForItsTurnEndsWithItsContext(t *testing.T) {
	t.Parallel()
	s := open(t, sqliteSpec(t)).(*SQLiteStore)
	s.batches.turn <- struct{}{} // a batch is committing, and goes on for as long as the test says
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	written := make(chan error, 1)
	go func() { written <- s.Observe(ctx, "T1", contacts("a"), t0) }()
	select {
	case err := <-written:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the write whose context ended: %v, want its context's error", err)
		}
	case <-time.After(3 * time.Second):
		t.Error("a write whose context ended after 200 ms still waits for its turn after 3 s")
		<-s.batches.turn
		<-written
	}
	if len(s.batches.turn) == 1 {
		<-s.batches.turn // the batch ends
	}
	if es := all(t, s, "T1"); len(es) != 0 {
		t.Errorf("a write whose caller gave up left %d entries", len(es))
	}
}
