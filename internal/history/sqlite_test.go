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
