package notify

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryOutbox keeps deliveries in memory: the stand-in for the history store's outbox in
// tests (it passes outboxtest.Contract), and in development if wanted. What it keeps lasts as
// long as the value: a new Sender over the same MemoryOutbox is a restart that loses nothing.
type MemoryOutbox struct {
	mu      sync.Mutex
	seq     int
	records map[DeliveryKey]*memoryRecord
}

type memoryRecord struct {
	seq       int // order of queueing, for ties in Queued
	delivery  Delivery
	state     State
	next      time.Time
	lastError string
}

// Enqueue queues a delivery of n to each receiver (Receiver.Key), as the history store does in
// the transaction of n's entry. A delivery already queued is left as it is.
func (o *MemoryOutbox) Enqueue(n Notification, receivers []string, queued time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.records == nil {
		o.records = map[DeliveryKey]*memoryRecord{}
	}
	n.Link = "" // the outbox keeps the change, not where it is shown
	for _, r := range receivers {
		key := DeliveryKey{NotificationID: n.ID, Receiver: r}
		if _, ok := o.records[key]; ok {
			continue
		}
		o.seq++
		o.records[key] = &memoryRecord{seq: o.seq, state: Pending, next: queued,
			delivery: Delivery{Receiver: r, Queued: queued, Notification: n}}
	}
}

// Due implements Outbox.
func (o *MemoryOutbox) Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var due []*memoryRecord
	for _, r := range o.records {
		if r.state == Pending && !r.next.After(now) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b *memoryRecord) int {
		return cmp.Or(a.delivery.Queued.Compare(b.delivery.Queued), cmp.Compare(a.seq, b.seq))
	})
	out := make([]Delivery, 0, min(limit, len(due)))
	for _, r := range due[:min(limit, len(due))] {
		out = append(out, r.delivery)
	}
	return out, ctx.Err()
}

// Delivered implements Outbox.
func (o *MemoryOutbox) Delivered(ctx context.Context, key DeliveryKey, at time.Time) error {
	o.update(key, func(r *memoryRecord) {
		r.state = Delivered
	})
	return ctx.Err()
}

// Retry implements Outbox.
func (o *MemoryOutbox) Retry(ctx context.Context, key DeliveryKey, attempts int, next time.Time, lastError string) error {
	o.update(key, func(r *memoryRecord) {
		if r.state == Pending {
			r.delivery.Attempts, r.next, r.lastError = attempts, next, lastError
		}
	})
	return ctx.Err()
}

// GaveUp implements Outbox.
func (o *MemoryOutbox) GaveUp(ctx context.Context, key DeliveryKey, at time.Time, lastError string) error {
	o.update(key, func(r *memoryRecord) {
		if r.state == Pending {
			r.state, r.lastError = GaveUp, lastError
		}
	})
	return ctx.Err()
}

func (o *MemoryOutbox) update(key DeliveryKey, fn func(*memoryRecord)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r, ok := o.records[key]; ok {
		fn(r)
	}
}

// States returns the state of each delivery of the notification of a history entry, as the
// history page needs them.
func (o *MemoryOutbox) States(entryID int64) []DeliveryState {
	o.mu.Lock()
	defer o.mu.Unlock()
	var recs []*memoryRecord
	for _, r := range o.records {
		if r.delivery.Notification.EntryID == entryID {
			recs = append(recs, r)
		}
	}
	slices.SortFunc(recs, func(a, b *memoryRecord) int { return cmp.Compare(a.seq, b.seq) })
	var out []DeliveryState
	for _, r := range recs {
		out = append(out, DeliveryState{Receiver: r.delivery.Receiver, State: r.state, Attempts: r.delivery.Attempts, LastError: r.lastError})
	}
	return out
}

// State returns one delivery's state; ok false when it is not kept.
func (o *MemoryOutbox) State(key DeliveryKey) (s DeliveryState, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.records[key]
	if !ok {
		return DeliveryState{}, false
	}
	return DeliveryState{Receiver: r.delivery.Receiver, State: r.state, Attempts: r.delivery.Attempts, LastError: r.lastError}, true
}
