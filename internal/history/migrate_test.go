package history

import (
	"strings"
	"testing"
	"testing/fstest"
)

// Every migration says who can still run after it; without that, a rollback past it could not be
// told safe or not.
func TestLoadMigrationsWantsEachOldestReader(t *testing.T) {
	t.Parallel()
	file := func(text string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(text)} }
	first := file("-- oldest reader: 1\nCREATE TABLE a (x INTEGER);\n")
	for _, c := range []struct {
		name string
		fsys fstest.MapFS
		says string // "" when loaded
	}{
		{"headers", fstest.MapFS{"0001_a.sql": first, "0002_b.sql": file("-- oldest reader: 1\n-- why\nCREATE INDEX b ON a (x);\n")}, ""},
		{"no header", fstest.MapFS{"0001_a.sql": first, "0002_b.sql": file("-- adds b\nCREATE INDEX b ON a (x);\n")}, "0002_b.sql: want \"-- oldest reader: \""},
		{"header not first", fstest.MapFS{"0001_a.sql": file("-- the first\n-- oldest reader: 1\nCREATE TABLE a (x INTEGER);\n")}, "0001_a.sql: want"},
		{"no number", fstest.MapFS{"0001_a.sql": first, "0002_b.sql": file("-- oldest reader: the previous one\n")}, "0002_b.sql: want"},
		{"above its version", fstest.MapFS{"0001_a.sql": first, "0002_b.sql": file("-- oldest reader: 3\n")}, "0002_b.sql: oldest reader 3, want 1 to 2"},
		{"zero", fstest.MapFS{"0001_a.sql": file("-- oldest reader: 0\n")}, "0001_a.sql: oldest reader 0, want 1 to 1"},
		{"below the one before", fstest.MapFS{"0001_a.sql": first, "0002_b.sql": file("-- oldest reader: 2\n"), "0003_c.sql": file("-- oldest reader: 1\n")}, "0003_c.sql: oldest reader 1, want 2 to 3"},
	} {
		ms, err := loadMigrations(c.fsys)
		switch {
		case c.says == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.says == "" && (len(ms) != 2 || ms[0].oldestReader != 1 || ms[1].oldestReader != 1):
			t.Errorf("%s: loaded %+v, want two with oldest reader 1", c.name, ms)
		case c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says)):
			t.Errorf("%s: loaded (%v), want an error saying %q", c.name, err, c.says)
		}
	}
}

// The embedded migrations themselves pass (the app cannot start otherwise).
func TestEmbeddedMigrationsLoad(t *testing.T) {
	t.Parallel()
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		if _, err := loadMigrations(d.migrations); err != nil {
			t.Errorf("%s: %v", d.name, err)
		}
	}
}
