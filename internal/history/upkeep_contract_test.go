package history

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/support"
)

// upkeepContract: retention, restarts and schema versions.
func upkeepContract(t *testing.T, newDatabase func(t *testing.T) string) {
	ctx := context.Background()
	t.Run("retention deletes old entries but never a tenant's newest", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		day := 24 * time.Hour
		now := t0.Add(30 * day)
		for i, at := range []time.Time{now.Add(-10 * day), now.Add(-9 * day), now.Add(-8 * day)} {
			mustObserve(t, s, "allOld", contacts(fmt.Sprint(i)), at)
		}
		mustObserve(t, s, "mixed", contacts("0"), now.Add(-10*day))
		mustObserve(t, s, "mixed", contacts("1"), now.Add(-time.Hour))
		mustObserve(t, s, "lone", contacts("0"), now.Add(-10*day))
		n, err := s.DeleteBefore(ctx, now.Add(-7*day))
		if err != nil || n != 3 {
			t.Fatalf("DeleteBefore: %d, %v; want 3 deleted", n, err)
		}
		for tenant, want := range map[string]support.Contact{"allOld": contacts("2"), "mixed": contacts("1"), "lone": contacts("0")} {
			if es := all(t, s, tenant); len(es) != 1 || es[0].After != want {
				t.Errorf("%s keeps %+v, want only its newest (ending at %+v)", tenant, es, want)
			}
		}
		// The kept entry is still the state outside changes are told from.
		mustObserve(t, s, "allOld", contacts("2"), now)
		mustObserve(t, s, "allOld", contacts("3"), now)
		if es := all(t, s, "allOld"); len(es) != 2 || es[1].Before != contacts("2") || es[1].Kind != KindOutside {
			t.Errorf("after retention: %+v, want the kept entry then outside 2→3", es)
		}
		if n, err := s.DeleteBefore(ctx, now.Add(day)); err != nil || n != 1 {
			t.Errorf("DeleteBefore everything: %d, %v; want 1 deleted (allOld's older one)", n, err)
		}
	})

	t.Run("reopening keeps the history and the schema as it is", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		s := open(t, spec)
		mustObserve(t, s, "T1", contacts("a"), t0)
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Ping(ctx); err == nil {
			t.Error("Ping after Close succeeded")
		}
		again := open(t, spec)
		if es := all(t, again, "T1"); len(es) != 1 {
			t.Errorf("after reopening: %d entries, want 1", len(es))
		}
		if v, want := queryInt(t, again, `SELECT COUNT(*) FROM history_schema`), int64(knownVersions(t, again)); v != want {
			t.Errorf("%d schema versions recorded, want %d", v, want)
		}
	})

	// Binaries before oldest readers were recorded wrote versions without one (and version
	// tables without the column): such a version is taken as one that no older binary can use.
	for _, c := range []struct{ name, first string }{
		{"its oldest reader not recorded", ""},
		{"in a version table from before oldest readers", `ALTER TABLE history_schema DROP COLUMN oldest_reader`},
	} {
		t.Run("a newer schema "+c.name+" stops the start with what to do", func(t *testing.T) {
			t.Parallel()
			spec := newDatabase(t)
			s := open(t, spec)
			for _, q := range []string{c.first, `INSERT INTO history_schema (version, applied_at)
				SELECT 7, applied_at FROM history_schema WHERE version = 1`} {
				if _, err := rawDB(s).Exec(q); q != "" && err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			_, err := openSpec(ctx, spec)
			if !errors.Is(err, ErrSchemaTooNew) {
				t.Fatalf("open: %v, want ErrSchemaTooNew", err)
			}
			for _, says := range []string{"version 7", fmt.Sprintf("up to %d", knownVersions(t, s)), "Run the newer version", "restore"} {
				if !strings.Contains(err.Error(), says) {
					t.Errorf("message %q does not say %q", err, says)
				}
			}
		})
	}

	t.Run("a version table from before oldest readers gets them from this binary's migrations", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		s := open(t, spec)
		if _, err := rawDB(s).Exec(`ALTER TABLE history_schema DROP COLUMN oldest_reader`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		again := open(t, spec)
		rows, err := rawDB(again).Query(`SELECT version, oldest_reader FROM history_schema ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got, want [][2]int
		for rows.Next() {
			var v [2]int
			if err := rows.Scan(&v[0], &v[1]); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		for _, m := range migrationsOf(t, spec) {
			want = append(want, [2]int{m.version, m.oldestReader})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("versions and oldest readers %v, want %v", got, want)
		}
	})

	t.Run("rolled back after a migration that only adds, this version starts and serves", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		known := len(migrationsOf(t, spec))
		newer := newerVersion(t, known, addsAColumn, known)
		n, err := openSpecWith(ctx, spec, newer)
		if err != nil {
			t.Fatal(err)
		}
		mustObserve(t, n, "T1", contacts("a"), t0)
		mustRecordSave(t, n, save("T1", "a", "b", t0.Add(time.Hour)))
		n.Close()

		s, err := openSpec(ctx, spec)
		if err != nil {
			t.Fatalf("this version (migrations up to %d) on a database at %d whose migration only adds: %v; want it to start", known, known+1, err)
		}
		defer s.Close()
		mustObserve(t, s, "T1", contacts("c"), t0.Add(2*time.Hour))
		mustRecordSave(t, s, save("T1", "c", "d", t0.Add(3*time.Hour)))
		es := all(t, s, "T1")
		checkChain(t, es)
		if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved, KindOutside, KindSaved}) {
			t.Fatalf("kinds %v, want the newer version's baseline and save, then this version's outside change and save", got)
		}
		p, err := s.List(ctx, "T1", Filter{}, Cursor{}, 3)
		if err != nil || len(p.Entries) != 3 || p.Older == nil {
			t.Errorf("List: %d entries, older %v, err %v; want 3 and an older page", len(p.Entries), p.Older, err)
		}
		if last, ok, err := s.LastChange(ctx, "T1"); !ok || err != nil || last.After != contacts("d") {
			t.Errorf("LastChange %+v (ok %v, err %v), want the save c→d", last, ok, err)
		}
		if n, err := s.DeleteBefore(ctx, t0.Add(150*time.Minute)); n != 3 || err != nil {
			t.Errorf("DeleteBefore: %d, %v; want 3 deleted", n, err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if v, n := queryInt(t, s, `SELECT MAX(version) FROM history_schema`), queryInt(t, s, `SELECT COUNT(*) FROM history_schema`); v != int64(known+1) || n != v {
			t.Errorf("schema at version %d with %d versions recorded, want %d as the newer version left it", v, n, known+1)
		}
		s.Close()
		again, err := openSpecWith(ctx, spec, newer)
		if err != nil {
			t.Fatalf("the newer version, after the rollback: %v", err)
		}
		again.Close()
	})

	t.Run("rolled back after a migration this version cannot use, the start stops with what to do", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		known := len(migrationsOf(t, spec))
		// The migration's header alone says that this version cannot use what it leaves (the
		// newer version here is this code, which must run on it).
		newer := newerVersion(t, known, addsAColumn, known+1)
		n, err := openSpecWith(ctx, spec, newer)
		if err != nil {
			t.Fatal(err)
		}
		n.Close()
		_, err = openSpec(ctx, spec)
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("open: %v, want ErrSchemaTooNew", err)
		}
		for _, says := range []string{fmt.Sprintf("version %d", known+1), fmt.Sprintf("up to %d", known), "Run the newer version", "restore"} {
			if !strings.Contains(err.Error(), says) {
				t.Errorf("message %q does not say %q", err, says)
			}
		}
		again, err := openSpecWith(ctx, spec, newer)
		if err != nil {
			t.Fatalf("the newer version, after the refused start: %v", err)
		}
		again.Close()
	})

	t.Run("a writer killed mid-write leaves whole entries and a whole chain", func(t *testing.T) {
		t.Parallel()
		crashContract(t, newDatabase(t))
	})
}
