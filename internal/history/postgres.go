package history

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresStore keeps the history in PostgreSQL, shared by several replicas.
type PostgresStore struct{ sqlStore }

var _ Store = (*PostgresStore)(nil)

// migrationLockKey is the advisory lock that makes replicas starting together migrate one at a
// time (any fixed number; this one spells "pcs-hist").
const migrationLockKey = 0x7063732d68697374

var postgresDialect = dialect{
	name:       "PostgreSQL",
	migrations: mustSub(migrationFiles, "migrations/postgres"),
	createVersionTable: `CREATE TABLE IF NOT EXISTS history_schema (
		version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL, oldest_reader INTEGER)`,
	// The table the statements name, found as they find it (search_path).
	hasOldestReader: `SELECT COUNT(*) FROM pg_attribute
		WHERE attrelid = 'history_schema'::regclass AND attname = 'oldest_reader' AND NOT attisdropped`,
	lockMigrations: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, migrationLockKey),
	timeArg:        func(t time.Time) any { return t },
	retryable: func(err error) bool {
		var e *pgconn.PgError
		if !errors.As(err, &e) {
			return false
		}
		const uniqueViolation, serializationFailure, deadlock = "23505", "40001", "40P01"
		return e.Code == uniqueViolation && e.ConstraintName == "history_entries_chain" ||
			e.Code == serializationFailure || e.Code == deadlock
	},
}

// OpenPostgres connects to the database at url (postgres://… or key=value; pgx's parameters
// apply, e.g. pool_max_conns) and brings its schema up to date. Errors never repeat the password.
func OpenPostgres(ctx context.Context, url string) (*PostgresStore, error) {
	return openPostgres(ctx, url, postgresDialect)
}

// openPostgres is OpenPostgres with the dialect given: a test brings a database to another schema.
func openPostgres(ctx context.Context, url string, d dialect) (*PostgresStore, error) {
	secrets := passwordsIn(url)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, redact(fmt.Errorf("history: PostgreSQL URL: %w", err), secrets)
	}
	secrets = append(secrets, cfg.ConnConfig.Password)
	if _, set := cfg.ConnConfig.RuntimeParams["application_name"]; !set {
		cfg.ConnConfig.RuntimeParams["application_name"] = "pcsupport"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redact(fmt.Errorf("history: PostgreSQL pool: %w", err), secrets)
	}
	db := d.openDB(stdlib.GetPoolConnector(pool))
	db.SetMaxIdleConns(0) // as stdlib.OpenDBFromPool: the pool keeps the idle connections
	s := &PostgresStore{sqlStore{db: db, writer: db, d: d,
		closeDB: func() error { pool.Close(); return nil }}}
	if err := s.open(ctx); err != nil {
		_ = s.Close()
		return nil, redact(fmt.Errorf("%w (PostgreSQL %s/%s)", err, cfg.ConnConfig.Host, cfg.ConnConfig.Database), secrets)
	}
	return s, nil
}

var keywordPassword = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s]+)`)

// passwordsIn finds the password of a connection string as written (and decoded), so a message
// that quotes it can be cleaned even when the string does not parse.
func passwordsIn(conn string) []string {
	var found []string
	if u, err := url.Parse(conn); err == nil {
		if pw, ok := u.User.Password(); ok {
			found = append(found, pw)
		}
		found = append(found, u.Query()["password"]...)
	}
	if _, rest, ok := strings.Cut(conn, "://"); ok {
		if userinfo, _, ok := strings.Cut(rest, "@"); ok {
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				found = append(found, pw)
			}
		}
	}
	for _, m := range keywordPassword.FindAllStringSubmatch(conn, -1) {
		found = append(found, m[1], strings.Trim(m[1], "'"))
	}
	return found
}

// redactedError is err with the secrets masked in its message. errors.Is still sees what err
// is (ErrSchemaTooNew, context.Canceled…); errors.As cannot reach the original text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

func redact(err error, secrets []string) error {
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return &redactedError{msg: msg, err: err}
}
