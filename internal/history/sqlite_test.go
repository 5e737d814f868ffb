package history

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The contract on SQLite itself runs in TestQueries (queries_test.go), which records the
// statements it sends on the way; running it here too only doubled the package's time.

// The app runs SQLite behind Cached, for ever: the contract holds through it too.
func TestCachedSQLiteContract(t *testing.T) {
	t.Parallel()
	storeContract(t, func(t *testing.T) string {
		return "cached-sqlite:" + filepath.Join(t.TempDir(), "state", "history.db")
	})
}

func TestSQLiteFilesAreTheOwnersOnly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "history.db")
	s := open(t, "sqlite:"+path)
	mustObserve(t, s, "T1", contacts("a"), t0)
	want := map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(p), fi.Mode(), mode)
		}
	}
}

func TestSQLiteRefusesAPathItCannotPassOn(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", filepath.Join(t.TempDir(), "h.db?mode=ro")} {
		if s, err := OpenSQLite(context.Background(), path); err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q) succeeded", path)
		}
	}
}

// The statements of the save and page-view paths find their entries through the tenant index,
// and a save's look at its recent entries is bounded by id: a scan would make every save slower
// as the history grows (a save cost 2.6 ms at 10,000 entries before they were). So does each
// page of an export and of the history page, from where the page before ended, whatever the
// filter, and the count of what a filter keeps.
func TestSQLiteHotStatementsUseTheTenantIndex(t *testing.T) {
	t.Parallel()
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "history.db")).(*SQLiteStore)
	const byTenant = "SEARCH history_entries USING INDEX history_entries_tenant (tenant_id=?)"
	// Every filter set: the tenant index still leads, from the cursor on.
	filtered := []any{"T1", "saved", "oid", "telephone", 0, 1 << 50, 1000, exportPageSize}
	for _, c := range []struct {
		query string
		args  []any
		want  []string
	}{
		{newestQuery, []any{"T1"}, []string{byTenant}},
		{lastChangeQuery, []any{"T1"}, []string{byTenant}},
		{olderQuery, filtered, []string{"SEARCH history_entries USING INDEX history_entries_tenant (tenant_id=? AND id<?)"}},
		{newerQuery, filtered, []string{"SEARCH history_entries USING INDEX history_entries_tenant (tenant_id=? AND id>?)"}},
		{countQuery, filtered[:6], []string{byTenant}},
		{getQuery, []any{"T1", 7}, []string{"SEARCH history_entries USING INTEGER PRIMARY KEY (rowid=?)"}},
		{metQuery, []any{"T1", 0, 0, "r", "e", "t", "w"}, []string{"SEARCH history_entries USING INDEX history_entries_tenant (tenant_id=? AND id>?)"}},
		{appendSaveAtEnd, []any{"T1", 0, "", "", "", "", "", "", "", "", "", "", "", 0, recentEntries, 0}, []string{
			"SEARCH newest USING INTEGER PRIMARY KEY (rowid=?)",
			"SCALAR SUBQUERY 1",
			"SEARCH history_entries USING COVERING INDEX history_entries_tenant (tenant_id=?)",
			"CORRELATED SCALAR SUBQUERY 2",
			"SEARCH met USING INDEX history_entries_tenant (tenant_id=? AND id>?)",
		}},
	} {
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !reflect.DeepEqual(plan, c.want) {
			t.Errorf("%s\nplan %q, want %q", c.query, plan, c.want)
		}
	}
}

// Migration 0003 rebuilds the table without the indexes a save's record paid for: a history
// written before it keeps every entry and id, and ids go on growing from the largest, so a
// bookmarked cursor never points at another entry.
func TestSQLiteLeanSchemaKeepsTheHistoryAndItsIds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	// A file as a build that knew up to 0002 wrote it, with that build's insert (this code's
	// statements name columns added since).
	db := sqliteAt(t, path, 2)
	var written []Entry // T1's, oldest first
	insert := func(e Entry, prevID int64) int64 {
		t.Helper()
		err := db.QueryRow(insertBeforeRestoredFrom, e.TenantID, prevID, string(e.Kind), e.At.UnixMilli(), e.By.ObjectID, e.By.Name, e.By.Username,
			e.Before.Email, e.Before.Telephone, e.Before.Website, e.After.Email, e.After.Telephone, e.After.Website,
			e.CorrelationID, e.RequestID).Scan(&e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.TenantID == "T1" {
			written = append(written, e)
		}
		return e.ID
	}
	sv := save("T1", "b", "c", t0.Add(2*time.Minute))
	first := insert(Entry{TenantID: "T1", Kind: KindBaseline, At: ms(t0), After: contacts("a")}, 0)
	insert(Entry{TenantID: "T2", Kind: KindBaseline, At: ms(t0), After: contacts("a")}, 0)
	changed := insert(Entry{TenantID: "T1", Kind: KindOutside, At: ms(t0.Add(time.Minute)), Before: contacts("a"), After: contacts("b")}, first)
	insert(Entry{TenantID: "T1", Kind: KindSaved, At: ms(sv.At), By: sv.By, Before: sv.Before, After: sv.After,
		CorrelationID: sv.CorrelationID, RequestID: sv.RequestID}, changed)
	db.Close()

	s := open(t, "sqlite:"+path)
	if v, want := queryInt(t, s, `SELECT MAX(version) FROM history_schema`), int64(knownVersions(t, s)); v != want {
		t.Fatalf("schema version %d after reopening, want %d", v, want)
	}
	if got := all(t, s, "T1"); !reflect.DeepEqual(got, written) {
		t.Fatalf("entries after the migration:\n%+v\nwant\n%+v", got, written)
	}
	// Retention leaves each tenant's newest; the largest id (T1's save) stays, so a new entry
	// gets an id above every id given before.
	if _, err := s.DeleteBefore(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustObserve(t, s, "T2", contacts("z"), t0.Add(3*time.Minute))
	if t2 := all(t, s, "T2"); t2[len(t2)-1].ID <= written[len(written)-1].ID {
		newest := t2[len(t2)-1]
		t.Errorf("a new entry got id %d, not above the largest given before (%d)", newest.ID, written[len(written)-1].ID)
	}
}

// Reads holding every connection of the pool (exports' pages, history pages, retention's pass)
// keep no write waiting: writes take turns on a connection of their own. A write waiting for a
// connection would wait without its caller's context (see commitBatch), for as long as the
// reads last.
func TestSQLiteWritesWaitForNoConnectionTheReadsHold(t *testing.T) {
	t.Parallel()
	s := open(t, sqliteSpec(t)).(*SQLiteStore)
	ctx := context.Background()
	var held []*sql.Conn
	for range s.db.Stats().MaxOpenConnections {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	releaseReads := func() {
		for _, c := range held {
			c.Close()
		}
		held = nil
	}
	defer releaseReads()
	written := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		written <- s.RecordSave(ctx, save("T1", "a", "b", t0))
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Errorf("a save's record with every read connection taken: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("a save's record with all %d read connections taken still waits after 3 s", len(held))
		releaseReads()
		<-written
	}
}
