package history

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
)

//go:embed migrations/*/*.sql
var migrationFiles embed.FS

// SQLiteStore keeps the history in one SQLite file, for a single replica.
type SQLiteStore struct{ sqlStore }

var _ Store = (*SQLiteStore)(nil)

var sqliteDialect = dialect{
	name:       "SQLite",
	migrations: mustSub(migrationFiles, "migrations/sqlite"),
	createVersionTable: `CREATE TABLE IF NOT EXISTS history_schema (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, oldest_reader INTEGER)`,
	hasOldestReader: `SELECT COUNT(*) FROM pragma_table_info('history_schema') WHERE name = 'oldest_reader'`,
	timeArg:         func(t time.Time) any { return t.UnixMilli() },
	// Every write is an immediate transaction, holding the write lock from its first read to
	// its commit: no other writer can get there first (and the table has no UNIQUE constraint
	// to say so; see migration 0003).
	retryable: func(error) bool { return false },
}

// OpenSQLite opens (creating it, and its directory, readable by the owner only) the SQLite file at
// path and brings its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*SQLiteStore, error) {
	return openSQLite(ctx, path, sqliteDialect)
}

// openSQLite is OpenSQLite with the dialect given: a test brings a file to an earlier schema.
func openSQLite(ctx context.Context, path string, d dialect) (*SQLiteStore, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("history: SQLite path %q: empty, or has ? or #", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: create the directory of %s: %w", path, err)
	}
	// Created here so the file gets its mode; SQLite gives its -wal and -shm files the same.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	_ = f.Close()
	// WAL: readers never wait for the writer. Immediate transactions take the write lock at BEGIN,
	// so a write decides on what it read without a deadlock. NORMAL: with WAL a commit survives
	// the app's crash and never corrupts the file; only an operating system crash or a power loss
	// may lose the last commits (FULL made every save wait for an fsync: half the saves per
	// second). The busy timeout covers another process writing, for as long as the app gives a
	// history write (5 s): once its turn comes, a write runs without its caller's context (see
	// commitBatch). A page cache of 512 KiB per connection holds a long history's hot pages
	// (SQLite's default is 2 MiB each).
	dsn := path + "?_busy_timeout=5000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_pragma=cache_size(-512)"
	c, err := sqlite.NewConnector(dsn) // as sql.Open("sqlite", dsn), and d.interpose can wrap it
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	db := d.openDB(c)
	db.SetMaxOpenConns(4) // readers never wait for the writer in WAL
	// Writes queue in this process (writeBatches) and take turns on a connection of their own:
	// however long the reads take, a write never waits for a connection.
	writer := d.openDB(c)
	writer.SetMaxOpenConns(1)
	s := &SQLiteStore{sqlStore{db: db, writer: writer, d: d, batches: newWriteBatches(), closeDB: writer.Close}}
	if err := s.open(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return s, nil
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
