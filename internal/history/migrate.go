package history

import (
	"context"
	"database/sql"
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

// migrate brings the schema to the newest version this binary knows, in one transaction.
func (s *sqlStore) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.d.migrations)
	if err != nil {
		return fmt.Errorf("history: embedded migrations: %w", err)
	}
	return s.writeOnce(ctx, writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
		if s.d.lockMigrations != "" {
			if _, err := tx.ExecContext(ctx, s.d.lockMigrations); err != nil {
				return fmt.Errorf("history: lock for migrations: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.createVersionTable); err != nil {
			return fmt.Errorf("history: create the version table: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM history_schema`).Scan(&current); err != nil {
			return fmt.Errorf("history: read the schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("%w: the %s database holds history schema version %d, this binary knows versions up to %d; "+
				"a newer pcsupport has upgraded it: run that version (or a newer one), or restore the database from before the upgrade",
				ErrSchemaTooNew, s.d.name, current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("history: migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO history_schema (version, applied_at) VALUES ($1, $2)`,
				m.version, s.d.timeArg(toMillis(time.Now()))); err != nil {
				return fmt.Errorf("history: record migration %s: %w", m.name, err)
			}
		}
		return nil
	}})
}
