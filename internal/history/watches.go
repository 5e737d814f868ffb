package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"pcsupport/internal/notify"
)

// Watch is the watch of one partner tenant's support profile for changes made outside the app
// (internal/watch): an admin starts it with their sign-in, and the app reads the profile every
// interval with that person's refresh token, kept sealed (encrypted and authenticated with the
// session keys: the store sees only the sealed text).
type Watch struct {
	TenantID  string
	StartedBy Person
	StartedAt time.Time // UTC, millisecond precision
	// Active: the watch reads the profile. A stopped watch (the provider refused its token) keeps
	// when and why, and no token.
	Active     bool
	Token      string    // the sealed refresh token; "" once stopped
	LastReadAt time.Time // the last time it read the profile; zero before the first
	StoppedAt  time.Time
	StopReason string
}

// Watches keeps the watches, at most one per tenant. Every method is safe for concurrent use,
// also by several replicas on one database.
type Watches interface {
	// StartWatch starts w (Active, its Token set), replacing any earlier watch of its tenant,
	// active or stopped.
	StartWatch(ctx context.Context, w Watch) error
	// Watch returns the tenant's watch; ok false when it has none.
	Watch(ctx context.Context, tenantID string) (w Watch, ok bool, err error)
	// ActiveWatches returns every active watch.
	ActiveWatches(ctx context.Context) ([]Watch, error)
	// RenewWatchToken replaces the token of the tenant's active watch, when it is still old (the
	// provider rotated it at its use): false, changing nothing, when the watch was stopped or
	// started again meanwhile.
	RenewWatchToken(ctx context.Context, tenantID, old, renewed string) (bool, error)
	// WatchRead records that the watch holding token read the profile at at.
	WatchRead(ctx context.Context, tenantID, token string, at time.Time) error
	// StopRefusedWatch stops the active watch holding token, because the sign-in provider
	// refused it: it keeps when and why, deletes the token, and queues the notification that
	// the watch stopped for every receiver (NotifyTo), in one transaction. False, changing
	// nothing, when that watch is no longer the tenant's active one.
	StopRefusedWatch(ctx context.Context, tenantID, token string, at time.Time, reason string) (bool, error)
	// EndWatch deletes the tenant's watch and its token (an admin stopped it).
	EndWatch(ctx context.Context, tenantID string) error
}

const watchColumns = `tenant_id, state, started_at, started_by_object_id, started_by_name, started_by_username,
	sealed_token, last_read_at, stopped_at, stop_reason`

// nullTime reads a nullable time column as msTime does; NULL is the zero time.
type nullTime struct{ t time.Time }

func (n *nullTime) Scan(v any) error {
	if v == nil {
		n.t = time.Time{}
		return nil
	}
	var m msTime
	err := m.Scan(v)
	n.t = m.t
	return err
}

func scanWatch(row interface{ Scan(...any) error }) (Watch, error) {
	var w Watch
	var state string
	var started msTime
	var read, stopped nullTime
	err := row.Scan(&w.TenantID, &state, &started, &w.StartedBy.ObjectID, &w.StartedBy.Name, &w.StartedBy.Username,
		&w.Token, &read, &stopped, &w.StopReason)
	w.Active, w.StartedAt, w.LastReadAt, w.StoppedAt = state == "active", started.t, read.t, stopped.t
	return w, err
}

func (s *sqlStore) StartWatch(ctx context.Context, w Watch) error {
	if w.TenantID == "" || w.Token == "" || w.StartedAt.IsZero() {
		return errors.New("history: start a watch: no tenant id, token or time")
	}
	return s.write(ctx, "start a watch", writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM watches WHERE tenant_id = $1`, w.TenantID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO watches (tenant_id, state, started_at,
			started_by_object_id, started_by_name, started_by_username, sealed_token)
			VALUES ($1, 'active', $2, $3, $4, $5, $6)`,
			w.TenantID, s.d.timeArg(toMillis(w.StartedAt)), w.StartedBy.ObjectID, w.StartedBy.Name, w.StartedBy.Username, w.Token)
		return err
	}})
}

func (s *sqlStore) Watch(ctx context.Context, tenantID string) (Watch, bool, error) {
	w, err := scanWatch(s.db.QueryRowContext(ctx, `SELECT `+watchColumns+` FROM watches WHERE tenant_id = $1`, tenantID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Watch{}, false, nil
	case err != nil:
		return Watch{}, false, fmt.Errorf("history: read the watch: %w", err)
	}
	return w, true, nil
}

func (s *sqlStore) ActiveWatches(ctx context.Context) ([]Watch, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+watchColumns+` FROM watches WHERE state = 'active' ORDER BY tenant_id`)
	if err != nil {
		return nil, fmt.Errorf("history: active watches: %w", err)
	}
	defer rows.Close()
	var ws []Watch
	for rows.Next() {
		w, err := scanWatch(rows)
		if err != nil {
			return nil, fmt.Errorf("history: active watches: %w", err)
		}
		ws = append(ws, w)
	}
	return ws, rows.Err()
}

// updateWatch runs an UPDATE of the watches and reports whether it changed a row.
func (s *sqlStore) updateWatch(ctx context.Context, what, statement string, args ...any) (bool, error) {
	changed := false
	err := s.write(ctx, what, writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, statement, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return err
	}})
	return changed, err
}

func (s *sqlStore) RenewWatchToken(ctx context.Context, tenantID, old, renewed string) (bool, error) {
	if old == "" || renewed == "" {
		return false, errors.New("history: renew a watch's token: no token")
	}
	return s.updateWatch(ctx, "renew a watch's token", `UPDATE watches SET sealed_token = $3
		WHERE tenant_id = $1 AND sealed_token = $2 AND state = 'active'`, tenantID, old, renewed)
}

func (s *sqlStore) WatchRead(ctx context.Context, tenantID, token string, at time.Time) error {
	_, err := s.updateWatch(ctx, "record a watch's read", `UPDATE watches SET last_read_at = $3
		WHERE tenant_id = $1 AND sealed_token = $2 AND state = 'active'`, tenantID, token, s.d.timeArg(toMillis(at)))
	return err
}

func (s *sqlStore) StopRefusedWatch(ctx context.Context, tenantID, token string, at time.Time, reason string) (bool, error) {
	if token == "" {
		return false, errors.New("history: stop a watch: no token")
	}
	at = toMillis(at)
	stopped := false
	err := s.write(ctx, "stop a watch", writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
		w, err := scanWatch(tx.QueryRowContext(ctx, `SELECT `+watchColumns+` FROM watches
			WHERE tenant_id = $1 AND sealed_token = $2 AND state = 'active'`, tenantID, token))
		if errors.Is(err, sql.ErrNoRows) {
			stopped = false
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE watches SET state = 'stopped', sealed_token = '', stopped_at = $2, stop_reason = $3
			WHERE tenant_id = $1`, tenantID, s.d.timeArg(at), reason); err != nil {
			return err
		}
		stopped = true
		return s.enqueueWatchStopped(ctx, tx, w, at, reason)
	}})
	return stopped, err
}

// enqueueWatchStopped queues, in tx, the notification that w stopped at at, for every receiver.
// It tells of no history entry: its entry id is 0.
func (s *sqlStore) enqueueWatchStopped(ctx context.Context, tx *sql.Tx, w Watch, at time.Time, reason string) error {
	receivers := s.receivers()
	if len(receivers) == 0 {
		return nil
	}
	n := notify.Notification{ID: notify.WatchStoppedID(w.TenantID, at), TenantID: w.TenantID, Kind: notify.KindWatchStopped,
		By: notify.Person(w.StartedBy), At: at, Reason: reason}
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("history: notification that the watch stopped: %w", err)
	}
	for _, r := range receivers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notification_deliveries
			(notification_id, receiver, entry_id, tenant_id, queued_at, next_attempt, notification)
			VALUES ($1, $2, $3, $4, $5, $5, $6)`, n.ID, r, 0, w.TenantID, s.d.timeArg(at), string(body)); err != nil {
			return fmt.Errorf("history: queue the notification that the watch stopped: %w", err)
		}
	}
	return nil
}

func (s *sqlStore) EndWatch(ctx context.Context, tenantID string) error {
	_, err := s.updateWatch(ctx, "end a watch", `DELETE FROM watches WHERE tenant_id = $1`, tenantID)
	return err
}

// A PostgreSQL history that did not answer at start (open.go) keeps no watch until it opens.

func (s *laterStore) StartWatch(ctx context.Context, w Watch) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.StartWatch(ctx, w)
}

func (s *laterStore) Watch(ctx context.Context, tenantID string) (Watch, bool, error) {
	st, err := s.get()
	if err != nil {
		return Watch{}, false, err
	}
	return st.Watch(ctx, tenantID)
}

func (s *laterStore) ActiveWatches(ctx context.Context) ([]Watch, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.ActiveWatches(ctx)
}

func (s *laterStore) RenewWatchToken(ctx context.Context, tenantID, old, renewed string) (bool, error) {
	st, err := s.get()
	if err != nil {
		return false, err
	}
	return st.RenewWatchToken(ctx, tenantID, old, renewed)
}

func (s *laterStore) WatchRead(ctx context.Context, tenantID, token string, at time.Time) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.WatchRead(ctx, tenantID, token, at)
}

func (s *laterStore) StopRefusedWatch(ctx context.Context, tenantID, token string, at time.Time, reason string) (bool, error) {
	st, err := s.get()
	if err != nil {
		return false, err
	}
	return st.StopRefusedWatch(ctx, tenantID, token, at, reason)
}

func (s *laterStore) EndWatch(ctx context.Context, tenantID string) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.EndWatch(ctx, tenantID)
}
