package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for bare databases
	"pcsupport/internal/history/pgtest"
)

// The statements each build sends, kept per dialect in testdata/queries/<dialect>-<N>.sql for
// the builds that know migrations up to N, and what they prove: that every migration keeps the
// builds it says can still run (its oldest reader and later) working. See migrations/README.md.

var update = flag.Bool("update", false, "add the statements this code sends to its testdata/queries file")

// backend is a dialect with what the queries' tests need of it.
type backend struct {
	d      dialect
	golden string // the files' prefix: testdata/queries/<golden>-<N>.sql
	// spec makes an empty database for the contract; bare one for the statements alone.
	spec func(t *testing.T) string
	bare func(t *testing.T) *sql.DB
}

func sqliteBackend() backend {
	return backend{d: sqliteDialect, golden: "sqlite",
		spec: func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "history.db") },
		bare: func(t *testing.T) *sql.DB {
			return openBare(t, "sqlite", filepath.Join(t.TempDir(), "history.db")+"?_txlock=immediate")
		},
	}
}

func postgresBackend() backend {
	return backend{d: postgresDialect, golden: "postgres",
		spec: func(t *testing.T) string { return "postgres:" + pgtest.NewDatabase(t) },
		bare: func(t *testing.T) *sql.DB { return openBare(t, "pgx", pgtest.NewDatabase(t)) },
	}
}

func openBare(t *testing.T, driverName, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestQueries is the contract's run on SQLite and on PostgreSQL (Cached SQLite has its own): on
// stores that record every statement they send (less the migrations' own, which a build never
// sends to a database past them), and it checks that the file of the migrations this code knows
// holds them all. With -update it adds them.
func TestQueries(t *testing.T) {
	if !*update {
		t.Parallel() // with -update, the check of the files (parallel) runs after they are written
	}
	for _, b := range []backend{sqliteBackend(), postgresBackend()} {
		t.Run(b.golden, func(t *testing.T) {
			if !*update {
				t.Parallel()
			}
			if b.golden == "postgres" {
				pgtest.Start(t)
			}
			ms := mustLoadMigrations(t, b.d)
			r := newStatementRecorder(ms)
			t.Run("contract", func(t *testing.T) {
				storeContract(t, func(t *testing.T) string {
					spec := b.spec(t)
					specDialects.Store(spec, r.recording)
					t.Cleanup(func() { specDialects.Delete(spec) })
					return spec
				})
			})
			if t.Failed() {
				return
			}
			sent := r.statements()
			path := goldenPath(b.golden, len(ms))
			kept, err := readStatements(path)
			switch {
			case os.IsNotExist(err) && !*update:
				t.Fatalf("%s: none yet for the migrations this code knows (go test ./internal/history -run Queries -update writes it)", path)
			case err != nil && !os.IsNotExist(err):
				t.Fatal(err)
			}
			missing := slices.DeleteFunc(slices.Clone(sent), func(q string) bool { return slices.Contains(kept, q) })
			switch {
			case len(missing) > 0 && *update:
				all := slices.Sorted(slices.Values(append(kept, missing...)))
				if err := writeStatements(path, b.d.name, len(ms), all); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: added %d statements", path, len(missing))
			case len(missing) > 0:
				t.Errorf("this code sends %d statements that %s lacks (go test ./internal/history -run Queries -update adds them, and the test of every later migration then checks them):\n%s",
					len(missing), path, strings.Join(missing, "\n"))
			}
		})
	}
}

// statementRecorder collects the distinct statements stores send through its connections.
type statementRecorder struct {
	mu   sync.Mutex
	sent map[string]bool
	skip map[string]bool
}

func newStatementRecorder(ms []migration) *statementRecorder {
	// The migrations run only on a database before them, and the version table gets its
	// oldest_reader column only when it has none (a newer build's database has it).
	skip := map[string]bool{normalize(addOldestReader): true}
	for _, m := range ms {
		skip[normalize(m.sql)] = true
	}
	return &statementRecorder{sent: map[string]bool{}, skip: skip}
}

// recording is d whose stores send their statements through r.
func (r *statementRecorder) recording(d dialect) dialect {
	d.interpose = func(c driver.Connector) driver.Connector { return recordingConnector{c, r} }
	return d
}

func (r *statementRecorder) record(query string) {
	q := normalize(query)
	if r.skip[q] || sentByATest() {
		return
	}
	r.mu.Lock()
	r.sent[q] = true
	r.mu.Unlock()
}

func (r *statementRecorder) statements() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.sent))
}

// sentByATest tells a statement a test sends itself (through rawDB: its checks of the schema):
// the first caller past database/sql is in a _test.go file.
func sentByATest() bool {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	inSQL := false
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "database/sql."):
			inSQL = true
		case inSQL:
			return strings.HasSuffix(f.File, "_test.go")
		}
		if !more {
			return false
		}
	}
}

// normalize is a statement on one line: its words as they are, whitespace between them one space.
func normalize(query string) string { return strings.Join(strings.Fields(query), " ") }

// recordingConnector hands out connections that record the statements they are given.
type recordingConnector struct {
	driver.Connector
	r *statementRecorder
}

func (c recordingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: conn, r: c.r}, nil
}

// recordingConn records what it prepares, executes and queries, and passes every optional
// interface of the driver's connection on, so database/sql uses it as it uses the driver's.
type recordingConn struct {
	driver.Conn
	r *statementRecorder
}

func (c *recordingConn) Unwrap() driver.Conn { return c.Conn }

func (c *recordingConn) Prepare(query string) (driver.Stmt, error) {
	c.r.record(query)
	return c.Conn.Prepare(query)
}

func (c *recordingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.r.record(query)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *recordingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip // database/sql prepares it instead
	}
	c.r.record(query)
	return e.ExecContext(ctx, query, args)
}

func (c *recordingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.r.record(query)
	return q.QueryContext(ctx, query, args)
}

func (c *recordingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	//lint:ignore SA1019 the driver has nothing else
	return c.Conn.Begin()
}

func (c *recordingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *recordingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *recordingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *recordingConn) CheckNamedValue(v *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(v)
	}
	return driver.ErrSkip // database/sql's own conversions
}

func goldenPath(prefix string, version int) string {
	return filepath.Join("testdata", "queries", fmt.Sprintf("%s-%d.sql", prefix, version))
}

// readStatements reads a queries file: one statement a line, lines of "--" comments aside.
func readStatements(path string) ([]string, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var qs []string
	for line := range strings.Lines(string(text)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
			qs = append(qs, line)
		}
	}
	return qs, nil
}

func writeStatements(path, dialectName string, version int, qs []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, `-- The statements that builds of pcsupport knowing the %[1]s history migrations up to %[2]d send,
-- one a line, whitespace collapsed, sorted. A later migration whose oldest reader is %[2]d or below
-- must keep each of them working (TestQueriesOfEachBuildWorkOnEveryLaterSchema). Every build that
-- knows up to %[2]d adds its own (go test ./internal/history -run Queries -update); none is taken
-- out, as a build that shipped can be rolled back to. See ../../migrations/README.md.
`, dialectName, version)
	for _, q := range qs {
		b.WriteString(q + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func mustLoadMigrations(t testing.TB, d dialect) []migration {
	t.Helper()
	ms, err := loadMigrations(d.migrations)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// goldenVersions lists the versions that have a queries file for prefix, oldest first.
func goldenVersions(t *testing.T, prefix string) []int {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "queries", prefix+"-*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []int
	for _, p := range paths {
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), prefix+"-"), ".sql"))
		if err != nil {
			t.Fatalf("%s: want %s-<version>.sql", p, prefix)
		}
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// TestQueriesOfEachBuildWorkOnEveryLaterSchema: for each queries file <dialect>-<N>.sql and each
// migration M from N on that builds knowing N may run on (M = N: a database this code's migrations
// and version table left at N; M > N: M's oldest reader is N or below), every statement of the
// file prepares on a database this code migrated to M: its tables and columns are there, with
// parameters of types PostgreSQL can infer. A migration whose oldest reader is below its version
// must have a file for that reader to be proved against, from the first file's version on.
func TestQueriesOfEachBuildWorkOnEveryLaterSchema(t *testing.T) {
	t.Parallel()
	for _, b := range []backend{sqliteBackend(), postgresBackend()} {
		t.Run(b.golden, func(t *testing.T) {
			t.Parallel()
			if b.golden == "postgres" {
				pgtest.Start(t)
			}
			for _, problem := range checkBuildsQueries(t, b, b.d) {
				t.Error(problem)
			}
		})
	}
}

// The check above fails on a migration that breaks a build it says can still run (one that
// renames a column the statements read, marked as keeping the builds that know the version
// before), and on one that names builds whose statements no file holds.
func TestQueriesCheckFailsOnAMigrationThatBreaksABuildItKeeps(t *testing.T) {
	t.Parallel()
	for _, b := range []backend{sqliteBackend(), postgresBackend()} {
		t.Run(b.golden, func(t *testing.T) {
			t.Parallel()
			if b.golden == "postgres" {
				pgtest.Start(t)
			}
			known := len(mustLoadMigrations(t, b.d))
			name := fmt.Sprintf("%04d_newer.sql", known+1)
			renamed := withMigration(t, b.d, name, fmt.Sprintf("-- oldest reader: %d\nALTER TABLE history_entries RENAME COLUMN by_name TO by_display_name;\n", known))
			wantProblem(t, checkBuildsQueries(t, b, renamed), "on a database at "+name, "by_name")

			// Two more migrations: the second says builds that know the first can run on it, but
			// no build knowing the first has shipped, so no file holds their statements.
			unproved := known + 1
			added := withMigration(t, b.d, name, fmt.Sprintf("-- oldest reader: %d\nALTER TABLE history_entries ADD COLUMN note TEXT NOT NULL DEFAULT '';\n", known))
			last := fmt.Sprintf("%04d_newer.sql", known+2)
			added = withMigration(t, added, last, fmt.Sprintf("-- oldest reader: %d\nALTER TABLE history_entries ADD COLUMN other TEXT NOT NULL DEFAULT '';\n", unproved))
			wantProblem(t, checkBuildsQueries(t, b, added),
				fmt.Sprintf("%s says builds that know %d can run on it, but no %s proves it", last, unproved, goldenPath(b.golden, unproved)))
		})
	}
}

// wantProblem fails unless one of problems says every one of want.
func wantProblem(t *testing.T, problems []string, want ...string) {
	t.Helper()
	if !slices.ContainsFunc(problems, func(p string) bool {
		return !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(p, w) })
	}) {
		t.Errorf("the check found %q; want a problem saying %q", problems, want)
	}
}

// checkBuildsQueries checks the statements of b's queries files against the migrations of d.
func checkBuildsQueries(t *testing.T, b backend, d dialect) []string {
	ms := mustLoadMigrations(t, d)
	versions := goldenVersions(t, b.golden)
	if len(versions) == 0 {
		return []string{fmt.Sprintf("no testdata/queries/%s-*.sql", b.golden)}
	}
	var problems []string
	// From the first file on, each migration's claim is proved against the builds it names.
	for _, m := range ms {
		if r := m.oldestReader; m.version > versions[0] && r < m.version && !slices.Contains(versions, r) {
			problems = append(problems, fmt.Sprintf("%s says builds that know %d can run on it, but no %s proves it", m.name, r, goldenPath(b.golden, r)))
		}
	}
	ctx := context.Background()
	for _, n := range versions {
		if n > len(ms) {
			problems = append(problems, fmt.Sprintf("%s: for migrations up to %d, this code knows %d", goldenPath(b.golden, n), n, len(ms)))
			continue
		}
		qs, err := readStatements(goldenPath(b.golden, n))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms[n-1:] {
			if m.version > n && m.oldestReader > n {
				break // and so are all later ones (oldest readers never go down)
			}
			db := b.bare(t)
			at := upTo(t, d, m.version)
			if err := (&sqlStore{db: db, writer: db, d: at}).migrate(ctx); err != nil {
				t.Fatalf("migrate to %s: %v", m.name, err)
			}
			for _, q := range qs {
				st, err := db.PrepareContext(ctx, q)
				if err != nil {
					problems = append(problems, fmt.Sprintf("a statement of %s (builds that know %d), on a database at %s (oldest reader %d): %v\n%s",
						goldenPath(b.golden, n), n, m.name, m.oldestReader, err, q))
					continue
				}
				st.Close()
			}
			db.Close()
		}
	}
	return problems
}
