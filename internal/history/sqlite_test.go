package history

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestSQLiteContract(t *testing.T) {
	t.Parallel()
	storeContract(t, func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "state", "history.db")
	})
}

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
// as the history grows (a save cost 2.6 ms at 10,000 entries before they were).
func TestSQLiteHotStatementsUseTheTenantIndex(t *testing.T) {
	t.Parallel()
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "history.db")).(*SQLiteStore)
	for _, c := range []struct {
		query string
		args  []any
		want  string
	}{
		{newestQuery, []any{"T1"}, "SEARCH history_entries USING INDEX history_entries_tenant (tenant_id=?)"},
		{lastChangeQuery, []any{"T1"}, "SEARCH history_entries USING INDEX history_entries_tenant (tenant_id=?)"},
		{metQuery, []any{"T1", 0, 0, "r", "e", "t", "w"}, "SEARCH history_entries USING INDEX history_entries_tenant (tenant_id=? AND id>?)"},
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
		if len(plan) != 1 || plan[0] != c.want {
			t.Errorf("%s\nplan %q, want %q", c.query, plan, c.want)
		}
	}
}
