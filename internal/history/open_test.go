package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"pcsupport/internal/history/pgtest"
	"pcsupport/internal/testkit"
)

// What the app does after a rollback past a migration (history.Open, as cmd/web calls it): on a
// schema it can use it starts and its log says so; on one it cannot, the start fails, not
// waiting in the background for a PostgreSQL that answers already.
func TestOpenAfterARollback(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"SQLite", "PostgreSQL"} {
		for _, c := range []struct {
			name     string
			beyond   int // the newer migration's oldest reader, past what this version knows
			startsOK bool
		}{{"a migration that only adds", 0, true}, {"a migration this version cannot use", 1, false}} {
			t.Run(backend+" after "+c.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				var o Options
				var spec string
				if backend == "SQLite" {
					o.DataDir = t.TempDir()
					spec = "sqlite:" + filepath.Join(o.DataDir, File)
				} else {
					o.DatabaseURL = pgtest.NewDatabase(t)
					spec = "postgres:" + o.DatabaseURL
				}
				known := len(migrationsOf(t, spec))
				newer, err := openSpecWith(ctx, spec, newerVersion(t, known, addsAColumn, known+c.beyond))
				if err != nil {
					t.Fatal(err)
				}
				newer.Close()

				var logs testkit.SyncBuffer // retention logs from its goroutine
				o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				s, err := Open(ctx, o)
				if !c.startsOK {
					if !errors.Is(err, ErrSchemaTooNew) {
						t.Errorf("Open: %v, want ErrSchemaTooNew", err)
					}
					if s != nil {
						s.Close()
					}
					return
				}
				if err != nil {
					t.Fatalf("Open: %v, want a start", err)
				}
				defer s.Close()
				for _, says := range []string{"history schema is newer than this version knows, but usable: nothing migrated",
					fmt.Sprintf("schema_version=%d this_version_knows_up_to=%d oldest_reader=%d", known+1, known, known)} {
					if !strings.Contains(logs.String(), says) {
						t.Errorf("the log does not say %q:\n%s", says, logs.String())
					}
				}
				mustObserve(t, s, "T1", contacts("a"), t0)
			})
		}
	}
}
