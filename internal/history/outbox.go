package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"pcsupport/internal/notify"
)

// The store is the notifications' outbox (internal/notify): each saved or outside entry queues
// one delivery per receiver in the transaction that records it, so that no change goes untold.
var _ notify.Outbox = (*sqlStore)(nil)

// notifyReceivers holds the keys (notify.Receiver.Key) of the receivers a new entry is told to;
// none (the default) queues nothing.
type notifyReceivers struct{ keys atomic.Pointer[[]string] }

// NotifyTo sets the receivers that the changes recorded from now on are told to.
func (s *sqlStore) NotifyTo(receivers []string) {
	keys := slices.Clone(receivers)
	s.notify.keys.Store(&keys)
}

func (s *sqlStore) receivers() []string {
	if keys := s.notify.keys.Load(); keys != nil {
		return *keys
	}
	return nil
}

// enqueue queues the notification of e for every receiver, in tx, the transaction recording e.
// A baseline tells of no change: it is not told.
func (s *sqlStore) enqueue(ctx context.Context, tx *sql.Tx, e Entry) error {
	receivers := s.receivers()
	if len(receivers) == 0 || e.Kind == KindBaseline {
		return nil
	}
	n := notificationOf(e)
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("history: notification of entry %d: %w", e.ID, err)
	}
	for _, r := range receivers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notification_deliveries
			(notification_id, receiver, entry_id, tenant_id, queued_at, next_attempt, notification)
			VALUES ($1, $2, $3, $4, $5, $5, $6)`, n.ID, r, e.ID, e.TenantID, s.d.timeArg(e.At), string(body)); err != nil {
			return fmt.Errorf("history: queue the notification of entry %d: %w", e.ID, err)
		}
	}
	return nil
}

// notificationOf is what the notification of e says.
func notificationOf(e Entry) notify.Notification {
	return notify.Notification{ID: notify.NotificationID(e.ID, e.At), EntryID: e.ID, TenantID: e.TenantID,
		Kind: string(e.Kind), By: notify.Person(e.By), At: e.At, Before: e.Before, After: e.After}
}

// Due returns pending deliveries whose next attempt is due at now, longest queued first.
func (s *sqlStore) Due(ctx context.Context, now time.Time, limit int) ([]notify.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT receiver, attempts, queued_at, notification
		FROM notification_deliveries WHERE state = 'pending' AND next_attempt <= $1
		ORDER BY queued_at, notification_id, receiver LIMIT $2`, s.d.timeArg(toMillis(now)), limit)
	if err != nil {
		return nil, fmt.Errorf("history: due notifications: %w", err)
	}
	defer rows.Close()
	var due []notify.Delivery
	for rows.Next() {
		var d notify.Delivery
		var queued msTime
		var body string
		if err := rows.Scan(&d.Receiver, &d.Attempts, &queued, &body); err != nil {
			return nil, fmt.Errorf("history: due notifications: %w", err)
		}
		if err := json.Unmarshal([]byte(body), &d.Notification); err != nil {
			return nil, fmt.Errorf("history: due notifications: %w", err)
		}
		d.Queued = queued.t
		due = append(due, d)
	}
	return due, rows.Err()
}

// Delivered marks a delivery done. Like Retry and GaveUp it changes only a pending delivery: a
// sender whose lock expired mid-send cannot undo what another one recorded, and a delivery that
// retention deleted is no error.
func (s *sqlStore) Delivered(ctx context.Context, key notify.DeliveryKey, at time.Time) error {
	return s.markDelivery(ctx, key, `state = 'delivered', next_attempt = $3`, s.d.timeArg(toMillis(at)))
}

// Retry holds a delivery back until next, with its attempts and why the last one failed.
func (s *sqlStore) Retry(ctx context.Context, key notify.DeliveryKey, attempts int, next time.Time, lastError string) error {
	return s.markDelivery(ctx, key, `attempts = $3, next_attempt = $4, last_error = $5`, attempts, s.d.timeArg(toMillis(next)), lastError)
}

// GaveUp marks a delivery as never to be made.
func (s *sqlStore) GaveUp(ctx context.Context, key notify.DeliveryKey, at time.Time, lastError string) error {
	return s.markDelivery(ctx, key, `state = 'gave_up', next_attempt = $3, last_error = $4`, s.d.timeArg(toMillis(at)), lastError)
}

func (s *sqlStore) markDelivery(ctx context.Context, key notify.DeliveryKey, set string, args ...any) error {
	return s.write(ctx, "mark a notification", writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE notification_deliveries SET `+set+`
			WHERE notification_id = $1 AND receiver = $2 AND state = 'pending'`, append([]any{key.NotificationID, key.Receiver}, args...)...)
		return err
	}})
}

// DeliveryStates returns, for each of the tenant's entries named, the states of its
// notification's deliveries, in the order they were queued.
func (s *sqlStore) DeliveryStates(ctx context.Context, tenantID string, entryIDs []int64) (map[int64][]notify.DeliveryState, error) {
	states := map[int64][]notify.DeliveryState{}
	if len(entryIDs) == 0 {
		return states, nil
	}
	args := []any{tenantID}
	marks := make([]string, len(entryIDs))
	for i, id := range entryIDs {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT entry_id, receiver, state, attempts, last_error
		FROM notification_deliveries WHERE tenant_id = $1 AND entry_id IN (`+strings.Join(marks, ", ")+`)
		ORDER BY entry_id, queued_at, receiver`, args...)
	if err != nil {
		return nil, fmt.Errorf("history: notification states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var st notify.DeliveryState
		var state string
		if err := rows.Scan(&id, &st.Receiver, &state, &st.Attempts, &st.LastError); err != nil {
			return nil, fmt.Errorf("history: notification states: %w", err)
		}
		st.State = notify.State(state)
		states[id] = append(states[id], st)
	}
	return states, rows.Err()
}
