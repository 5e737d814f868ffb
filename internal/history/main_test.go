package history

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"pcsupport/internal/history/pgtest"
	"pcsupport/internal/support"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashWriterEnv); spec != "" {
		os.Exit(runCrashWriter(spec)) // this process is a crash test's writer, killed mid-write
	}
	os.Exit(pgtest.Run(m))
}

// openSpec opens the store a spec names: "sqlite:PATH", "cached-sqlite:PATH" or "postgres:URL".
// A spec is what a child process needs to open the same database as its parent. A test that
// registered a dialect for the spec (specDialects) gets a store of that dialect.
func openSpec(ctx context.Context, spec string) (Store, error) {
	registered, _ := specDialects.Load(spec)
	change, _ := registered.(func(dialect) dialect)
	return openSpecWith(ctx, spec, change)
}

// specDialects holds, by spec, how the stores opened on it differ from the app's: a test runs the
// contract on stores that record their statements (TestQueries).
var specDialects sync.Map

// openSpecWith opens the store a spec names with the dialect change makes of the app's (nil: the
// app's): a binary that knows other migrations.
func openSpecWith(ctx context.Context, spec string, change func(dialect) dialect) (Store, error) {
	if change == nil {
		change = func(d dialect) dialect { return d }
	}
	if path, ok := strings.CutPrefix(spec, "cached-sqlite:"); ok {
		s, err := openSQLite(ctx, path, change(sqliteDialect))
		if err != nil {
			return nil, err
		}
		return Cached(s, 0), nil // as the app runs it with one replica
	}
	if path, ok := strings.CutPrefix(spec, "sqlite:"); ok {
		return openSQLite(ctx, path, change(sqliteDialect))
	}
	return openPostgres(ctx, strings.TrimPrefix(spec, "postgres:"), change(postgresDialect))
}

// open opens one more store (a replica) on the database of spec, closed when t ends.
func open(t testing.TB, spec string) Store {
	t.Helper()
	s, err := openSpec(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB reaches under the interface, for what only an operator or a test does (schema checks).
func rawDB(s Store) *sql.DB {
	switch s := s.(type) {
	case *cachedStore:
		return rawDB(s.Store)
	case *SQLiteStore:
		return s.db
	case *PostgresStore:
		return s.db
	}
	panic("unknown store")
}

func queryInt(t *testing.T, s Store, query string) int64 {
	t.Helper()
	var n int64
	if err := rawDB(s).QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// all gives a tenant's entries, oldest first.
func all(t *testing.T, s Store, tenantID string) []Entry {
	t.Helper()
	var es []Entry
	if err := s.Export(context.Background(), tenantID, Filter{}, func(e Entry) error { es = append(es, e); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(es)
	return es
}

// checkChain fails unless the entries (oldest first) tell one unbroken story: a baseline first,
// then changes, each starting where the one before ended.
func checkChain(t *testing.T, es []Entry) {
	t.Helper()
	if len(es) == 0 {
		t.Fatal("no entries")
	}
	if es[0].Kind != KindBaseline || es[0].Before != (support.Contact{}) {
		t.Errorf("first entry is %s from %+v, want a baseline from nothing", es[0].Kind, es[0].Before)
	}
	for i := 1; i < len(es); i++ {
		e, prev := es[i], es[i-1]
		switch {
		case e.ID <= prev.ID:
			t.Errorf("entry %d: id %d after id %d", i, e.ID, prev.ID)
		case e.Kind == KindBaseline:
			t.Errorf("entry %d (id %d): a second baseline", i, e.ID)
		case e.Before != prev.After:
			t.Errorf("entry %d (id %d, %s): starts from %+v, but the entry before ended at %+v", i, e.ID, e.Kind, e.Before, prev.After)
		case e.Before == e.After:
			t.Errorf("entry %d (id %d, %s): changes nothing (%+v)", i, e.ID, e.Kind, e.After)
		}
	}
}

func kinds(es []Entry) []Kind {
	var ks []Kind
	for _, e := range es {
		ks = append(ks, e.Kind)
	}
	return ks
}

func contacts(tag string) support.Contact {
	return support.Contact{Email: "support-" + tag + "@contoso.example", Telephone: "+1 425 555 01" + tag, Website: "https://contoso.example/" + tag}
}

// t0 has nanoseconds and a zone, to show what the store keeps of a time.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589_793_238, time.FixedZone("CET", 3600))

var alice = Person{ObjectID: "0b3f6a1e-2c9d-4e58-9f0a-7d5c1b2e3f40", Name: "Alice Martin", Username: "alice@contoso.example"}

// schemaUpTo is the SQLite dialect knowing only the first n migrations: a file written by an
// earlier binary.
func schemaUpTo(tb testing.TB, n int) dialect { return upTo(tb, sqliteDialect, n) }

// upTo is d knowing only its first n migrations.
func upTo(tb testing.TB, d dialect, n int) dialect {
	tb.Helper()
	earlier := fstest.MapFS{}
	names, err := fs.Glob(d.migrations, "*.sql")
	if err != nil || len(names) < n {
		tb.Fatalf("migrations %v: %v", names, err)
	}
	for _, name := range names[:n] {
		text, err := fs.ReadFile(d.migrations, name)
		if err != nil {
			tb.Fatal(err)
		}
		earlier[name] = &fstest.MapFile{Data: text}
	}
	d.migrations = earlier
	return d
}

// withMigration is d knowing one more migration, name (NNNN_what.sql) with text: a newer binary.
func withMigration(tb testing.TB, d dialect, name, text string) dialect {
	tb.Helper()
	names, err := fs.Glob(d.migrations, "*.sql")
	if err != nil {
		tb.Fatal(err)
	}
	newer := upTo(tb, d, len(names))
	newer.migrations.(fstest.MapFS)[name] = &fstest.MapFile{Data: []byte(text)}
	return newer
}

// sqliteAt is a bare SQLite file at path migrated to version n, as a build that knew up to n
// left it: for tests that write as such a build (with insertBeforeRestoredFrom: this code's statements name
// columns added since).
func sqliteAt(tb testing.TB, path string, n int) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := (&sqlStore{db: db, writer: db, d: schemaUpTo(tb, n)}).migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// insertBeforeRestoredFrom is the insert of the builds before the restored_from migration (SQLite 0005, PostgreSQL 0004): an entry's
// 15 columns, RETURNING its id.
const insertBeforeRestoredFrom = `INSERT INTO history_entries (tenant_id, prev_id, kind, at_time,
	by_object_id, by_name, by_username, before_email, before_telephone, before_website,
	after_email, after_telephone, after_website, correlation_id, request_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`
