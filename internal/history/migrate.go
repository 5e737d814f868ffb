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
}

// loadMigrations reads NNNN_what.sql files; versions must run 1, 2, 3… without a gap.
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
		ms = append(ms, migration{version: v, name: name, sql: string(text)})
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
