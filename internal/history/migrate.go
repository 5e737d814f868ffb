package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

type migration struct {
	version int
	name    string
	sql     string
	// oldestReader is the fewest migrations a binary may know and still work on a database at
	// this one (see migrations/README.md): version itself when no older binary can.
	oldestReader int
}

// oldestReaderHeader begins the first line of every migration file, followed by its oldest
// reader: older binaries cannot read the files they lack, so each migration says itself who can
// still run after it, and migrate records that beside its version.
const oldestReaderHeader = "-- oldest reader: "

// loadMigrations reads NNNN_what.sql files; versions must run 1, 2, 3… without a gap, and each
// file must begin with its oldest reader, at most its version and never below the one before
// (what an older binary cannot use in one migration it still cannot use after the next).
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var ms []migration
	for i, name := range names {
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d first in its name", name, i+1)
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		m := migration{version: v, name: name, sql: string(text)}
		first, _, _ := strings.Cut(m.sql, "\n")
		n, found := strings.CutPrefix(strings.TrimSpace(first), oldestReaderHeader)
		if m.oldestReader, err = strconv.Atoi(n); !found || err != nil {
			return nil, fmt.Errorf("migration %s: want %q and the oldest reader's version on its first line, found %q", name, oldestReaderHeader, first)
		}
		lowest := 1
		if i > 0 {
			lowest = ms[i-1].oldestReader
		}
		if m.oldestReader < lowest || m.oldestReader > v {
			return nil, fmt.Errorf("migration %s: oldest reader %d, want %d to %d (at least the one before, at most its own version)", name, m.oldestReader, lowest, v)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// addOldestReader gives a version table from before oldest readers were recorded their column.
// It may be NULL, as in the rows binaries of then write: no older binary can use that version.
const addOldestReader = `ALTER TABLE history_schema ADD COLUMN oldest_reader INTEGER`

// schemaState is the schema migrate left: the database's version and what this binary knows.
type schemaState struct {
	version      int // the newest migration applied
	oldestReader int // that migration's
	known        int // the newest migration this binary knows
}

// migrate brings the schema to the newest version this binary knows, in one transaction. On a
// database a newer binary migrated, it changes nothing: it refuses (ErrSchemaTooNew) when the
// newest migration applied says that a binary knowing no more than this one cannot use it, and
// otherwise leaves the schema as it is for this binary to run on (after a rollback).
func (s *sqlStore) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.d.migrations)
	if err != nil {
		return fmt.Errorf("history: embedded migrations: %w", err)
	}
	st := schemaState{known: len(ms)}
	err = s.writeOnce(ctx, writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
		if s.d.lockMigrations != "" {
			if _, err := tx.ExecContext(ctx, s.d.lockMigrations); err != nil {
				return fmt.Errorf("history: lock for migrations: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.createVersionTable); err != nil {
			return fmt.Errorf("history: create the version table: %w", err)
		}
		if err := s.recordOldestReaders(ctx, tx, ms); err != nil {
			return err
		}
		var oldest sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT version, oldest_reader FROM history_schema ORDER BY version DESC LIMIT 1`).Scan(&st.version, &oldest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("history: read the schema version: %w", err)
		}
		st.oldestReader = st.version
		if oldest.Valid {
			st.oldestReader = int(oldest.Int64)
		}
		if st.version > st.known {
			if st.oldestReader > st.known {
				return fmt.Errorf("%w: the %s database holds history schema version %d, which needs a pcsupport that knows versions up to at least %d; "+
					"this one knows up to %d: a newer pcsupport upgraded it past what this one can use. "+
					"Run the newer version (or a later one), or restore the database from a copy taken before the upgrade",
					ErrSchemaTooNew, s.d.name, st.version, st.oldestReader, st.known)
			}
			return nil
		}
		for _, m := range ms[st.version:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("history: migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO history_schema (version, applied_at, oldest_reader) VALUES ($1, $2, $3)`,
				m.version, s.d.timeArg(toMillis(time.Now())), m.oldestReader); err != nil {
				return fmt.Errorf("history: record migration %s: %w", m.name, err)
			}
			st.version, st.oldestReader = m.version, m.oldestReader
		}
		return nil
	}})
	if err == nil {
		s.schema = st
	}
	return err
}

// recordOldestReaders adds the oldest_reader column to a version table from before it existed,
// filled from this binary's migrations for the versions it knows (any other stays NULL: no
// binary knowing less can use it). A newer binary has added it already.
func (s *sqlStore) recordOldestReaders(ctx context.Context, tx *sql.Tx, ms []migration) error {
	var has int
	if err := tx.QueryRowContext(ctx, s.d.hasOldestReader).Scan(&has); err != nil {
		return fmt.Errorf("history: look for the oldest readers in the version table: %w", err)
	}
	if has > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, addOldestReader); err != nil {
		return fmt.Errorf("history: add the oldest readers to the version table: %w", err)
	}
	for _, m := range ms {
		if _, err := tx.ExecContext(ctx, `UPDATE history_schema SET oldest_reader = $1 WHERE version = $2`, m.oldestReader, m.version); err != nil {
			return fmt.Errorf("history: record the oldest reader of %s: %w", m.name, err)
		}
	}
	return nil
}
