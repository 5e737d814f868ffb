package history

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/support"
)

// ms is what a store keeps of a time.
func ms(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

func mustObserve(t testing.TB, s Store, tenantID string, c support.Contact, at time.Time) {
	t.Helper()
	if err := s.Observe(context.Background(), tenantID, c, at); err != nil {
		t.Fatal(err)
	}
}

// mustRecordSave records sv and checks the last change the store tells with it (see
// lastChangeRecorder), or that Cached knows, against the database's.
func mustRecordSave(t *testing.T, s Store, sv Save) {
	t.Helper()
	ctx := context.Background()
	told, known := Entry{}, false
	var err error
	if r, ok := s.(lastChangeRecorder); ok {
		told, known, err = r.recordSave(ctx, sv)
	} else {
		err = s.RecordSave(ctx, sv)
	}
	if err != nil {
		t.Fatal(err)
	}
	db := s
	if c, ok := s.(*cachedStore); ok {
		db = c.Store
		told, known, err = c.LastChange(ctx, sv.TenantID)
		if err != nil {
			t.Fatal(err)
		}
	}
	if !known {
		return
	}
	if want, _, err := db.LastChange(ctx, sv.TenantID); err != nil || !reflect.DeepEqual(told, want) {
		t.Errorf("after the save, last change told %+v, the database's %+v (%v)", told, want, err)
	}
}

// save is alice's save from before to after, begun at started and confirmed 800 ms later.
func save(tenantID, before, after string, started time.Time) Save {
	return Save{TenantID: tenantID, By: alice, Before: contacts(before), After: contacts(after),
		CorrelationID: "corr-" + tenantID + "-" + after, RequestID: "req-" + tenantID + "-" + before + "-" + after,
		Started: started, At: started.Add(800 * time.Millisecond)}
}

// race runs n goroutines on each replica at once and fails on any error.
func race(t *testing.T, replicas []Store, n int, do func(s Store, i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n*len(replicas))
	for r, s := range replicas {
		for g := range n {
			wg.Go(func() {
				<-start
				errs <- do(s, r*n+g)
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// fill gives a tenant n entries (a baseline, then outside changes), with another tenant's
// entries in between so the ids have gaps.
func fill(t *testing.T, s Store, tenantID string, n int) {
	t.Helper()
	for i := range n {
		mustObserve(t, s, tenantID, contacts(fmt.Sprint(i)), t0.Add(time.Duration(i)*time.Minute))
		if i%7 == 0 {
			mustObserve(t, s, "other-"+tenantID, contacts(fmt.Sprint(i)), t0)
		}
	}
}

// knownVersions is how many migrations the binary carries for s's database.
func knownVersions(t testing.TB, s Store) int {
	t.Helper()
	var d dialect
	switch s := s.(type) {
	case *cachedStore:
		return knownVersions(t, s.Store)
	case *SQLiteStore:
		d = s.d
	case *PostgresStore:
		d = s.d
	}
	ms, err := loadMigrations(d.migrations)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// addsAColumn is a newer version's migration that only adds (a column with a default, which no
// statement of this version names), in SQL that SQLite and PostgreSQL both take; %d is its
// oldest reader.
const addsAColumn = `-- oldest reader: %d
ALTER TABLE history_entries ADD COLUMN note TEXT NOT NULL DEFAULT '';
`

// newerVersion is a binary that knows this one's known migrations and one more, text with
// oldestReader in its header.
func newerVersion(t *testing.T, known int, text string, oldestReader int) func(dialect) dialect {
	return func(d dialect) dialect {
		return withMigration(t, d, fmt.Sprintf("%04d_newer.sql", known+1), fmt.Sprintf(text, oldestReader))
	}
}

// migrationsOf is what this binary knows of the schema of spec's database.
func migrationsOf(t testing.TB, spec string) []migration {
	t.Helper()
	d := postgresDialect
	if strings.Contains(spec, "sqlite:") {
		d = sqliteDialect
	}
	ms, err := loadMigrations(d.migrations)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
