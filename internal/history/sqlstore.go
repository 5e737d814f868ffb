package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"time"

	"pcsupport/internal/support"
)

// dialect is what differs between the SQL databases; the statements themselves are shared
// ($n placeholders work in both).
type dialect struct {
	name       string
	migrations fs.FS // NNNN_what.sql, applied in order
	// createVersionTable makes the table that records each applied migration, with its oldest
	// reader (NULL where a binary from before oldest readers were recorded wrote the row).
	createVersionTable string
	// hasOldestReader counts the version table's oldest_reader columns: 0 in a table made
	// before they were recorded.
	hasOldestReader string
	// lockMigrations runs first in the migration transaction, so replicas starting together
	// migrate once ("" where BEGIN already takes the write lock).
	lockMigrations string
	timeArg        func(time.Time) any // how at_time is written
	// retryable tells that another writer got there first: re-read and re-decide.
	retryable func(error) bool
	// interpose, when set, wraps the driver's connections: tests see every statement the
	// store sends. Nil in the app.
	interpose func(driver.Connector) driver.Connector
}

// openDB is the database/sql handle on c, through d.interpose when set.
func (d dialect) openDB(c driver.Connector) *sql.DB {
	if d.interpose != nil {
		c = d.interpose(c)
	}
	return sql.OpenDB(c)
}

// sqlStore is the Store on a database/sql handle; SQLiteStore and PostgresStore embed it.
type sqlStore struct {
	db *sql.DB
	// writer runs the store's writes: with SQLite a handle of one connection of their own,
	// which only the batch holding the turn uses (see writeBatches), so that a write never
	// waits for a connection, whatever the reads hold; with PostgreSQL db itself.
	writer  *sql.DB
	d       dialect
	closeDB func() error
	// schema is what migrate found and left.
	schema schemaState
	// batches, when set, commits this store's writes in turn, several together (SQLite; see
	// writeBatches); nil runs each write in a transaction of its own, side by side (PostgreSQL).
	batches *writeBatches

	// prepared holds the hot statements, prepared at open, by their text (read-only after).
	prepared map[string]*sql.Stmt
	// exportReads holds a token for each export reading a page (see exportReaders).
	exportReads chan struct{}
	// notify names the receivers each new change is queued for (outbox.go).
	notify notifyReceivers
}

// stmt is query as prepared at open (see prepareStatements), or nil for a statement that is not.
func (s *sqlStore) stmt(query string) *sql.Stmt { return s.prepared[query] }

// open brings the schema up to date and prepares the hot statements.
func (s *sqlStore) open(ctx context.Context) error {
	s.exportReads = make(chan struct{}, exportReaders)
	if err := s.migrate(ctx); err != nil {
		return err
	}
	return s.prepareStatements(ctx)
}

// prepareStatements prepares the statements of the page-view and save paths, once, at open:
// preparing (parsing) them was most of a history write's CPU with SQLite. It runs before any
// transaction: preparing later would need a connection of its own while a transaction holds one,
// which with every connection in a transaction never comes. Each is prepared on the handle that
// runs it: a transaction can only use its own handle's statements.
func (s *sqlStore) prepareStatements(ctx context.Context) error {
	s.prepared = map[string]*sql.Stmt{}
	for _, ps := range []struct {
		on      *sql.DB
		queries []string
	}{
		{s.db, []string{lastChangeQuery}},
		{s.writer, []string{newestQuery, insertQuery, metQuery, appendSaveAtEnd, claimUpdate, splitUpdate}},
	} {
		for _, q := range ps.queries {
			st, err := ps.on.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("history: prepare: %w", err)
			}
			s.prepared[q] = st
		}
	}
	return nil
}

// queryRow runs query in tx (nil: outside any transaction), prepared when it is one of the
// prepared statements.
func (s *sqlStore) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st := s.stmt(query)
	switch {
	case st != nil && tx != nil:
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	case st != nil:
		return st.QueryRowContext(ctx, args...)
	case tx != nil:
		return tx.QueryRowContext(ctx, query, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

// exec runs statement in tx, prepared when it is one of the prepared statements.
func (s *sqlStore) exec(ctx context.Context, tx *sql.Tx, statement string, args ...any) (sql.Result, error) {
	if st := s.stmt(statement); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, statement, args...)
}

// errRaced makes a write start over: a row it meant to change was changed under it.
var errRaced = errors.New("entry changed concurrently")

// maxWriteAttempts bounds the re-decisions of one write. Each lost race means another writer
// extended the same chain, so even many replicas settle in a few rounds.
const maxWriteAttempts = 50

const entryColumns = `id, tenant_id, kind, at_time, by_object_id, by_name, by_username,
	before_email, before_telephone, before_website, after_email, after_telephone, after_website,
	correlation_id, request_id, restored_from`

// msTime reads at_time whether the driver gives milliseconds (SQLite) or a time (PostgreSQL).
type msTime struct{ t time.Time }

func (m *msTime) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		m.t = time.UnixMilli(v).UTC()
	case time.Time:
		m.t = v.UTC()
	default:
		return fmt.Errorf("at_time: unexpected %T", v)
	}
	return nil
}

func scanEntry(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var at msTime
	err := row.Scan(&e.ID, &e.TenantID, &e.Kind, &at, &e.By.ObjectID, &e.By.Name, &e.By.Username,
		&e.Before.Email, &e.Before.Telephone, &e.Before.Website,
		&e.After.Email, &e.After.Telephone, &e.After.Website,
		&e.CorrelationID, &e.RequestID, &e.RestoredFrom)
	e.At = at.t
	return e, err
}

// toMillis is the precision every backend keeps.
func toMillis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// writeOp is a write: what it does in a transaction, and for the writes that can be one
// statement in their common case, that statement outside any transaction.
type writeOp struct {
	inTx func(context.Context, *sql.Tx) error
	// alone, when set, tries the write as one statement that commits itself: run when no other
	// write waits to share a transaction, for a transaction's BEGIN and COMMIT cost about as much
	// as the statement. True when it wrote; false, having written nothing, to run inTx.
	alone func(context.Context) (bool, error)
}

// write runs op, starting over when another writer got there first.
func (s *sqlStore) write(ctx context.Context, what string, op writeOp) error {
	var err error
	for range maxWriteAttempts {
		err = s.writeOnce(ctx, op)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errRaced) && !s.d.retryable(err) {
			break
		}
	}
	return fmt.Errorf("history: %s: %w", what, err)
}

func (s *sqlStore) writeOnce(ctx context.Context, op writeOp) error {
	if s.batches != nil {
		return s.batches.write(ctx, s, op)
	}
	return s.commitAlone(ctx, op)
}

// commitAlone runs op by itself: its one statement when it has one and that writes, else its
// transaction.
func (s *sqlStore) commitAlone(ctx context.Context, op writeOp) error {
	if op.alone != nil {
		if wrote, err := op.alone(ctx); wrote || err != nil {
			return err
		}
	}
	return s.commitOne(ctx, op.inTx)
}

// commitOne runs fn in a transaction of its own and commits it.
func (s *sqlStore) commitOne(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) Observe(ctx context.Context, tenantID string, current support.Contact, at time.Time) error {
	if tenantID == "" || at.IsZero() {
		return errors.New("history: observe: no tenant id or no time")
	}
	return s.write(ctx, "observe", writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
		return s.observe(ctx, tx, tenantID, current, toMillis(at))
	}})
}

// observe appends a baseline or an outside entry when current is not the last recorded state.
func (s *sqlStore) observe(ctx context.Context, tx *sql.Tx, tenantID string, current support.Contact, at time.Time) error {
	last, seen, err := s.newest(ctx, tx, tenantID)
	switch {
	case err != nil:
		return err
	case !seen:
		_, err = s.insert(ctx, tx, 0, Entry{TenantID: tenantID, Kind: KindBaseline, At: at, After: current})
	case last.After != current && at.Before(last.At):
		// The read began before the newest entry was recorded (a page loaded while a save went
		// through): what it found may be older than that entry, not a change. A later read tells.
	case last.After != current:
		_, err = s.insert(ctx, tx, last.ID, Entry{TenantID: tenantID, Kind: KindOutside, At: at, Before: last.After, After: current})
	}
	return err
}

func (s *sqlStore) newest(ctx context.Context, tx *sql.Tx, tenantID string) (Entry, bool, error) {
	e, err := scanEntry(s.queryRow(ctx, tx, newestQuery, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, false, nil
	}
	return e, err == nil, err
}

// insert appends e after the entry prevID. With PostgreSQL the chain's UNIQUE constraint makes a
// concurrent append after the same entry fail (retryable); SQLite runs one write at a time.
func (s *sqlStore) insert(ctx context.Context, tx *sql.Tx, prevID int64, e Entry) (int64, error) {
	err := s.queryRow(ctx, tx, insertQuery,
		e.TenantID, prevID, string(e.Kind), s.d.timeArg(e.At),
		e.By.ObjectID, e.By.Name, e.By.Username, e.Before.Email, e.Before.Telephone, e.Before.Website,
		e.After.Email, e.After.Telephone, e.After.Website, e.CorrelationID, e.RequestID, e.RestoredFrom).Scan(&e.ID)
	if err != nil {
		return 0, err
	}
	return e.ID, s.enqueue(ctx, tx, e)
}

func (s *sqlStore) LastChange(ctx context.Context, tenantID string) (Entry, bool, error) {
	e, err := scanEntry(s.queryRow(ctx, nil, lastChangeQuery, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("history: last change: %w", err)
	}
	return e, true, nil
}

// exportPageSize is how many entries an export reads at once, and so at most holds: a few
// hundred KB with the longest values.
const exportPageSize = 500

// exportPageTimeout bounds the read of one page of an export, its wait for its turn included,
// as the app bounds its other history calls (5 s): an export has no end time of its own, it
// lasts as long as its reader.
const exportPageTimeout = 5 * time.Second

// exportReaders is how many exports of one store read a page at once; the others wait their
// turn. Exports whose readers are fast read page after page, and so would hold as many
// connections as there are exports: two leave the rest of the pool (SQLite's four readers,
// pgxpool's four on a small machine) to page views and saves.
const exportReaders = 2

// Export reads a page of entries, releases the connection, then calls fn for each of them, and
// so on from the last id read (keyset pagination: entries recorded meanwhile are newer, and not
// in the export). An export held up by its reader (fn waiting on the network) holds no
// connection that another call needs.
func (s *sqlStore) Export(ctx context.Context, tenantID string, f Filter, fn func(Entry) error) error {
	page := make([]Entry, 0, exportPageSize)
	for before := int64(math.MaxInt64); ; {
		var err error
		if page, err = s.exportPage(ctx, tenantID, f, before, page[:0]); err != nil {
			return fmt.Errorf("history: export: %w", err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < exportPageSize {
			return nil
		}
		before = page[len(page)-1].ID
	}
}

// exportPage appends to page the tenant's newest entries that f keeps with ids below before.
func (s *sqlStore) exportPage(ctx context.Context, tenantID string, f Filter, before int64, page []Entry) ([]Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, exportPageTimeout)
	defer cancel()
	select {
	case s.exportReads <- struct{}{}:
		defer func() { <-s.exportReads }()
	case <-ctx.Done():
		return page, ctx.Err()
	}
	rows, err := s.db.QueryContext(ctx, olderQuery, append(s.filterArgs(tenantID, f), before, exportPageSize)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return page, err
		}
		page = append(page, e)
	}
	return page, rows.Err()
}

func (s *sqlStore) DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	at := s.d.timeArg(toMillis(cutoff))
	// First, outside any write, the newest entry old enough: SQLite keeps no index on at_time
	// (every save would write it), so this reads the table, without holding up a save's record.
	var last sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(id) FROM history_entries WHERE at_time < $1`, at).Scan(&last); err != nil {
		return 0, fmt.Errorf("history: find entries before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	if !last.Valid {
		return 0, nil
	}
	// Then the delete, through ids up to it. An entry is deletable only while a newer one of its
	// tenant exists, so the newest stays.
	res, err := s.db.ExecContext(ctx, `DELETE FROM history_entries WHERE id <= $2 AND at_time < $1 AND EXISTS (
		SELECT 1 FROM history_entries newer
		WHERE newer.tenant_id = history_entries.tenant_id AND newer.id > history_entries.id)`,
		at, last.Int64)
	if err != nil {
		return 0, fmt.Errorf("history: delete entries before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("history: delete entries: %w", err)
	}
	// Notifications as old are long delivered or given up (a delivery gives up after a day).
	if _, err := s.db.ExecContext(ctx, `DELETE FROM notification_deliveries WHERE queued_at < $1 AND state <> 'pending'`, at); err != nil {
		return n, fmt.Errorf("history: delete notifications before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

func (s *sqlStore) Ping(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM history_schema`).Scan(&v); err != nil {
		return fmt.Errorf("history: ping %s: %w", s.d.name, err)
	}
	return nil
}

// Close releases the database handles; the store is unusable afterwards.
func (s *sqlStore) Close() error {
	for _, st := range s.prepared {
		_ = st.Close()
	}
	err := s.db.Close()
	if s.closeDB != nil {
		err = errors.Join(err, s.closeDB())
	}
	return err
}
