package history

import (
	"context"
	"database/sql"
	"slices"
	"sync"
)

// writeBatches commits one process's writes to a SQLite file in turn, several in one
// transaction: writes that arrive while a transaction commits wait, and the first of them then
// commits all that waited together, sharing the cost of a commit (BENCHMARKS.md, "The change
// history's cost on the save path"). Queuing in this process also keeps writers off SQLite's
// busy handler, which polls and serves waiters unfairly.
//
// PostgreSQL needs none of this: its transactions run side by side and it groups their commits
// itself.
type writeBatches struct {
	turn chan struct{} // holds a token while a batch commits

	mu      sync.Mutex
	waiting []*queuedWrite
}

type queuedWrite struct {
	ctx  context.Context
	op   writeOp
	done chan error // buffered: the committer never waits on it
}

func newWriteBatches() *writeBatches { return &writeBatches{turn: make(chan struct{}, 1)} }

// write runs op, alone or in a transaction with the writes waiting beside it, and returns its
// outcome (or the commit's). A caller whose context ends before its turn gets the context's
// error at once, and nothing of op is written.
func (b *writeBatches) write(ctx context.Context, s *sqlStore, op writeOp) error {
	w := &queuedWrite{ctx: ctx, op: op, done: make(chan error, 1)}
	b.mu.Lock()
	b.waiting = append(b.waiting, w)
	b.mu.Unlock()
	select {
	case err := <-w.done: // a batch that held w committed while this waited
		return err
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		if b.withdraw(w) {
			return ctx.Err()
		}
		return <-w.done // a batch holds w already: it answers when it has committed
	}
	b.mu.Lock()
	batch := b.waiting // holds w unless a batch took it already and has answered
	b.waiting = nil
	b.mu.Unlock()
	s.commitBatch(batch)
	<-b.turn
	return <-w.done
}

// withdraw takes w out of the writes waiting for the next batch; false when a batch took it.
func (b *writeBatches) withdraw(w *queuedWrite) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.Index(b.waiting, w)
	if i < 0 {
		return false
	}
	b.waiting = slices.Delete(b.waiting, i, i+1)
	return true
}

// commitBatch commits the writes in one transaction, in the order they came, and answers each;
// a write with nothing beside it is run alone. When any of them fails, the transaction is
// rolled back and each is run alone, so that one write's failure (a race lost, a constraint)
// stays its own.
//
// A write whose caller still waits when its turn comes runs to its end, whatever its context:
// SQLite's statements wait on nothing but another process's lock, which the busy timeout
// bounds, and a statement run with a context that can end costs a goroutine of database/sql's
// to watch it (a sixth of a save's record).
func (s *sqlStore) commitBatch(batch []*queuedWrite) {
	var live []*queuedWrite
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.done <- err // its caller gave up waiting: nothing of it is written
			continue
		}
		live = append(live, w)
	}
	if len(live) > 1 && s.commitTogether(live) == nil {
		for _, w := range live {
			w.done <- nil
		}
		return
	}
	for _, w := range live {
		w.done <- s.commitAlone(context.WithoutCancel(w.ctx), w.op)
	}
}

// commitTogether runs every write in one transaction; nil when all of them and the commit
// succeeded.
func (s *sqlStore) commitTogether(batch []*queuedWrite) error {
	ctx := context.WithoutCancel(batch[0].ctx) // each caller's was checked before
	return s.commitOne(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, w := range batch {
			if err := w.op.inTx(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
}
