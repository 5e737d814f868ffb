package history

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"pcsupport/internal/support"
)

// storeContract is what the app needs of every history store. newDatabase makes an empty
// database for each subtest and returns its spec; the stores opened on one spec are replicas.
func storeContract(t *testing.T, newDatabase func(t *testing.T) string) {
	observeContract(t, newDatabase)
	saveContract(t, newDatabase)
	claimContract(t, newDatabase)
	raceContract(t, newDatabase)
	readContract(t, newDatabase)
	filterContract(t, newDatabase)
	restoreContract(t, newDatabase)
	exportContract(t, newDatabase)
	upkeepContract(t, newDatabase)
	outboxContract(t, newDatabase)
	watchContract(t, newDatabase)
}

// observeContract: recording what a GET found.
func observeContract(t *testing.T, newDatabase func(t *testing.T) string) {
	ctx := context.Background()
	t.Run("a read sent before the newest entry was recorded changes nothing", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		mustRecordSave(t, s, save("T1", "a", "b", t0.Add(time.Hour)))
		// A page load whose GET left while the save was under way read the old values.
		mustObserve(t, s, "T1", contacts("a"), t0.Add(time.Hour))
		if got := kinds(all(t, s, "T1")); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved}) {
			t.Errorf("after a read older than the save: kinds %v, want baseline, saved", got)
		}
		mustObserve(t, s, "T1", contacts("c"), t0.Add(2*time.Hour))
		if got := kinds(all(t, s, "T1")); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved, KindOutside}) {
			t.Errorf("after a later read found other values: kinds %v, want baseline, saved, outside", got)
		}
	})

	t.Run("first sight is a baseline, not a change", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		mustObserve(t, s, "T1", contacts("a"), t0.Add(time.Minute))
		es := all(t, s, "T1")
		want := Entry{ID: es[0].ID, TenantID: "T1", Kind: KindBaseline, At: ms(t0), After: contacts("a")}
		if len(es) != 1 || !reflect.DeepEqual(es[0], want) {
			t.Fatalf("entries %+v, want one %+v", es, want)
		}
		if _, ok, err := s.LastChange(ctx, "T1"); ok || err != nil {
			t.Errorf("LastChange: ok %v, err %v; want none (a baseline is no change)", ok, err)
		}
	})

	t.Run("a change made elsewhere is recorded once, with before and after", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		mustObserve(t, s, "T1", contacts("b"), t0.Add(time.Hour))
		mustObserve(t, s, "T1", contacts("b"), t0.Add(2*time.Hour))
		es := all(t, s, "T1")
		if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindOutside}) {
			t.Fatalf("kinds %v, want baseline, outside", got)
		}
		checkChain(t, es)
		last, ok, err := s.LastChange(ctx, "T1")
		if !ok || err != nil || !reflect.DeepEqual(last, es[1]) {
			t.Errorf("LastChange %+v (ok %v, err %v), want %+v", last, ok, err, es[1])
		}
		if !last.At.Equal(ms(t0.Add(time.Hour))) || last.Before != contacts("a") || last.After != contacts("b") {
			t.Errorf("outside entry %+v: want a→b noticed at %v", last, ms(t0.Add(time.Hour)))
		}
	})
}

// saveContract: recording saves.
func saveContract(t *testing.T, newDatabase func(t *testing.T) string) {
	ctx := context.Background()
	t.Run("a save records who, when, before, after and Partner Center's ids", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		sv := save("T1", "a", "b", t0.Add(time.Hour))
		mustRecordSave(t, s, sv)
		es := all(t, s, "T1")
		want := Entry{ID: es[len(es)-1].ID, TenantID: "T1", Kind: KindSaved, At: ms(sv.At),
			By: alice, Before: contacts("a"), After: contacts("b"), CorrelationID: sv.CorrelationID, RequestID: sv.RequestID}
		if len(es) != 2 || !reflect.DeepEqual(es[1], want) {
			t.Fatalf("entries %+v, want baseline then %+v", es, want)
		}
		if last, _, _ := s.LastChange(ctx, "T1"); !reflect.DeepEqual(last, want) {
			t.Errorf("LastChange %+v, want the save", last)
		}
	})

	t.Run("a save after an unnoticed change records that change first", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		sv := save("T1", "c", "b", t0.Add(time.Hour)) // its GET read c: someone changed a→c
		mustRecordSave(t, s, sv)
		es := all(t, s, "T1")
		checkChain(t, es)
		if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindOutside, KindSaved}) {
			t.Fatalf("kinds %v, want baseline, outside, saved", got)
		}
		if o := es[1]; o.Before != contacts("a") || o.After != contacts("c") || !o.At.Equal(ms(sv.Started)) || o.By != (Person{}) {
			t.Errorf("outside entry %+v: want a→c noticed when the save began (%v), by nobody", o, ms(sv.Started))
		}
	})

	t.Run("a save on a tenant never seen starts from a baseline of what its GET read", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		sv := save("T1", "a", "b", t0)
		mustRecordSave(t, s, sv)
		es := all(t, s, "T1")
		checkChain(t, es)
		if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved}) || es[0].After != contacts("a") {
			t.Fatalf("entries %+v, want a baseline of a, then the save", es)
		}
	})

	t.Run("a save recorded twice (a retry) is one entry; a save that changed nothing is none", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		sv := save("T1", "a", "b", t0.Add(time.Hour))
		mustRecordSave(t, s, sv)
		mustRecordSave(t, s, sv)
		mustRecordSave(t, s, save("T1", "b", "b", t0.Add(2*time.Hour)))
		if got := kinds(all(t, s, "T1")); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved}) {
			t.Fatalf("kinds %v, want baseline, saved", got)
		}
	})

	t.Run("a call without a tenant or its times is refused", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		for _, sv := range []Save{{Started: t0, At: t0}, {TenantID: "T1", At: t0}, {TenantID: "T1", Started: t0}} {
			if err := s.RecordSave(ctx, sv); err == nil {
				t.Errorf("RecordSave(%+v) accepted", sv)
			}
		}
		if err := s.Observe(ctx, "", contacts("a"), t0); err == nil {
			t.Error("Observe without a tenant accepted")
		}
		if err := s.Observe(ctx, "T1", contacts("a"), time.Time{}); err == nil {
			t.Error("Observe without a time accepted")
		}
		if es := all(t, s, "T1"); len(es) != 0 {
			t.Errorf("refused calls left %d entries", len(es))
		}
	})
}

// claimContract: a save and another replica's GET racing.
func claimContract(t *testing.T, newDatabase func(t *testing.T) string) {
	t.Run("a save claims the outside entry another replica recorded while it was in flight", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		a, b := open(t, spec), open(t, spec)
		mustObserve(t, a, "T1", contacts("a"), t0)
		sv := save("T1", "a", "b", t0.Add(time.Hour))
		// A's PUT has applied; B's page load reads the new values before A records its save
		// (B's clock a second behind A's).
		mustObserve(t, b, "T1", contacts("b"), sv.Started.Add(-time.Second))
		mustRecordSave(t, a, sv)
		es := all(t, b, "T1")
		checkChain(t, es)
		if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved}) {
			t.Fatalf("kinds %v, want baseline, saved: no false outside change", got)
		}
		if e := es[1]; e.By != alice || e.RequestID != sv.RequestID || e.CorrelationID != sv.CorrelationID || !e.At.Equal(ms(sv.At)) {
			t.Errorf("claimed entry %+v: want the save's person, ids and time", e)
		}
	})

	// B reads A's new values, then someone changes them again and B reads that too, all before A
	// records its save. The later values may be new ones, or the old ones put back: then the
	// newest entry ends where the save began, and only what the save met tells it apart.
	for _, later := range []struct{ name, values string }{{"a later change", "c"}, {"the values put back", "a"}} {
		t.Run("a save claims its outside entry also after "+later.name, func(t *testing.T) {
			t.Parallel()
			spec := newDatabase(t)
			a, b := open(t, spec), open(t, spec)
			mustObserve(t, a, "T1", contacts("a"), t0)
			sv := save("T1", "a", "b", t0.Add(time.Hour))
			mustObserve(t, b, "T1", contacts("b"), sv.Started.Add(time.Second))
			mustObserve(t, b, "T1", contacts(later.values), sv.Started.Add(2*time.Second))
			mustRecordSave(t, a, sv)
			es := all(t, b, "T1")
			checkChain(t, es)
			if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved, KindOutside}) {
				t.Fatalf("kinds %v, want baseline, saved a→b, outside b→%s", got, later.values)
			}
			if last, _, _ := a.LastChange(context.Background(), "T1"); last.Kind != KindOutside || last.After != contacts(later.values) {
				t.Errorf("last change %v to %v, want the later outside change to %s", last.Kind, last.After, later.values)
			}
		})
	}

	t.Run("a retried save is one entry also when the values went back to where it began", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		sv := save("T1", "a", "b", t0.Add(time.Hour))
		mustRecordSave(t, s, sv)
		// Someone puts the old values back; then the save's record is retried (its first
		// answer lost).
		mustObserve(t, s, "T1", contacts("a"), sv.At.Add(time.Second))
		mustRecordSave(t, s, sv)
		if got := kinds(all(t, s, "T1")); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved, KindOutside}) {
			t.Fatalf("kinds %v, want baseline, saved a→b, outside b→a", got)
		}
	})

	t.Run("a save does not claim the same change noticed before it began", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		mustObserve(t, s, "T1", contacts("b"), t0.Add(time.Minute)) // someone else made a→b
		// Later the app reads a again (changed back, unnoticed) and saves a→b itself.
		sv := save("T1", "a", "b", t0.Add(time.Hour))
		mustRecordSave(t, s, sv)
		es := all(t, s, "T1")
		checkChain(t, es)
		if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindOutside, KindOutside, KindSaved}) {
			t.Fatalf("kinds %v, want baseline, outside a→b, outside b→a, saved a→b", got)
		}
	})

	t.Run("a save whose change another replica saw merged with an earlier outside change splits it", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		a, b := open(t, spec), open(t, spec)
		mustObserve(t, a, "T1", contacts("p"), t0)
		sv := save("T1", "q", "r", t0.Add(time.Hour)) // someone made p→q; A's GET read q, A saved r
		mustObserve(t, b, "T1", contacts("r"), sv.Started.Add(300*time.Millisecond))
		mustRecordSave(t, a, sv)
		es := all(t, a, "T1")
		checkChain(t, es)
		if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindOutside, KindSaved}) {
			t.Fatalf("kinds %v, want baseline, outside p→q, saved q→r", got)
		}
		if es[1].After != contacts("q") || es[2].By != alice {
			t.Errorf("entries %+v: want outside p→q, then alice's save q→r", es)
		}
	})
}

// raceContract: replicas writing at once.
func raceContract(t *testing.T, newDatabase func(t *testing.T) string) {
	ctx := context.Background()
	t.Run("replicas racing on the same change record it once", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		replicas := []Store{open(t, spec), open(t, spec)}
		race(t, replicas, 8, func(s Store, _ int) error { return s.Observe(ctx, "fresh", contacts("a"), t0) })
		mustObserve(t, replicas[0], "T1", contacts("a"), t0)
		race(t, replicas, 8, func(s Store, _ int) error { return s.Observe(ctx, "T1", contacts("b"), t0.Add(time.Hour)) })
		if got := kinds(all(t, replicas[1], "fresh")); !reflect.DeepEqual(got, []Kind{KindBaseline}) {
			t.Errorf("first sight by 16 observers: kinds %v, want one baseline", got)
		}
		if got := kinds(all(t, replicas[1], "T1")); !reflect.DeepEqual(got, []Kind{KindBaseline, KindOutside}) {
			t.Errorf("one change seen by 16 observers: kinds %v, want baseline, one outside", got)
		}
	})

	t.Run("replicas racing on different changes and saves keep them all, chain whole", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		replicas := []Store{open(t, spec), open(t, spec)}
		mustObserve(t, replicas[0], "T1", contacts("base"), t0)
		race(t, replicas, 8, func(s Store, i int) error {
			if i%2 == 0 {
				// Reads sent after every save was confirmed: each found a change of its own.
				return s.Observe(ctx, "T1", contacts(fmt.Sprintf("seen%d", i)), t0.Add(2*time.Hour))
			}
			return s.RecordSave(ctx, save("T1", fmt.Sprintf("read%d", i), fmt.Sprintf("saved%d", i), t0.Add(time.Hour)))
		})
		es := all(t, replicas[1], "T1")
		checkChain(t, es)
		afters := map[support.Contact]Kind{}
		for _, e := range es {
			afters[e.After] = e.Kind
		}
		for i := range 16 {
			if i%2 == 0 && afters[contacts(fmt.Sprintf("seen%d", i))] != KindOutside {
				t.Errorf("observer %d's change is missing", i)
			}
			if i%2 == 1 && afters[contacts(fmt.Sprintf("saved%d", i))] != KindSaved {
				t.Errorf("saver %d's save is missing", i)
			}
		}
	})
}

// readContract: reading the history back.
func readContract(t *testing.T, newDatabase func(t *testing.T) string) {
	ctx := context.Background()
	t.Run("nothing of one tenant shows through another", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "X", contacts("x1"), t0)
		mustRecordSave(t, s, save("X", "x1", "x2", t0.Add(time.Minute)))
		mustObserve(t, s, "Y", contacts("y1"), t0)
		mustObserve(t, s, "X", contacts("x3"), t0.Add(time.Hour))
		xs := all(t, s, "X")
		ys := all(t, s, "Y")
		if len(ys) != 1 || ys[0].TenantID != "Y" || len(xs) != 3 {
			t.Fatalf("X has %d entries, Y has %+v; want 3 and Y's baseline", len(xs), ys)
		}
		for _, c := range []Cursor{{}, {Before: xs[2].ID + 1}, {After: xs[0].ID - 1}, {Before: xs[2].ID}, {After: xs[1].ID}} {
			p, err := s.List(ctx, "Y", Filter{}, c, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Entries {
				if e.TenantID != "Y" {
					t.Errorf("List(Y, %+v) shows %+v", c, e)
				}
			}
		}
		if _, ok, _ := s.LastChange(ctx, "Y"); ok {
			t.Error("Y's last change is X's")
		}
		for _, other := range []string{"x", "X ", "", "%", "Y' OR '1'='1"} {
			if es := all(t, s, other); len(es) != 0 {
				t.Errorf("tenant %q shows %d entries", other, len(es))
			}
		}
	})

	t.Run("pages walk both ways, stable while entries arrive", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		fill(t, s, "T1", 120)
		pagesContract(t, s, "T1")
	})

	t.Run("times come back in UTC, to the millisecond", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		ats := []time.Time{time.Date(1999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), t0, time.Date(2038, 1, 19, 3, 14, 8, 1_000_000, time.FixedZone("", -7*3600))}
		for i, at := range ats {
			mustObserve(t, s, "T1", contacts(fmt.Sprint(i)), at)
		}
		for i, e := range all(t, s, "T1") {
			want := ms(ats[i])
			if e.At != want { // == also compares the location
				t.Errorf("entry %d: At %v, want %v", i, e.At, want)
			}
		}
	})

	t.Run("export gives every entry newest first and stops at the callback's error", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		fill(t, s, "T1", 130)
		var ids []int64
		if err := s.Export(ctx, "T1", Filter{}, func(e Entry) error { ids = append(ids, e.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(ids) != 130 {
			t.Fatalf("exported %d entries, want 130", len(ids))
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] >= ids[i-1] {
				t.Fatalf("export order: id %d after %d", ids[i], ids[i-1])
			}
		}
		stop := errors.New("client went away")
		n := 0
		err := s.Export(ctx, "T1", Filter{}, func(Entry) error {
			if n++; n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Errorf("export after the callback failed: err %v after %d calls, want its error after 3", err, n)
		}
	})
}

// exportContract: an export waits on its reader (a download over a slow link, or one nobody
// reads) without holding what the other calls need.
func exportContract(t *testing.T, newDatabase func(t *testing.T) string) {
	t.Run("exports waiting on their readers hold up no other tenant's reads or writes", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		fill(t, s, "T1", 3)
		mustObserve(t, s, "T2", contacts("a"), t0)
		// More exports than either backend has connections (SQLite 4, pgxpool max(4, CPUs)),
		// each stopped in its callback as an answer stops on a network that takes nothing more.
		stalled := max(8, runtime.NumCPU()+1)
		entered, release := make(chan struct{}, stalled), make(chan struct{})
		exported := make(chan error, stalled)
		for range stalled {
			go func() {
				first := true
				exported <- s.Export(context.Background(), "T1", Filter{}, func(Entry) error {
					if first {
						first = false
						entered <- struct{}{}
						<-release
					}
					return nil
				})
			}()
		}
		t.Cleanup(func() {
			close(release)
			for range stalled {
				select {
				case err := <-exported:
					if err != nil {
						t.Errorf("an export, once its reader went on: %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Error("an export did not end within 10 s of its reader going on")
					return
				}
			}
		})
		// Every export in its callback; where exports keep their connections, only as many as
		// there are connections get there.
		underWay := 0
	wait:
		for deadline := time.After(3 * time.Second); underWay < stalled; underWay++ {
			select {
			case <-entered:
			case <-deadline:
				break wait
			}
		}

		// Each call bounded as the app bounds it (5 s): prompt means well under that.
		type outcome struct {
			call string
			err  error
			took time.Duration
		}
		outcomes := make(chan outcome, 4)
		call := func(name string, do func(ctx context.Context) error) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				start := time.Now()
				err := do(ctx)
				outcomes <- outcome{name, err, time.Since(start)}
			}()
		}
		call("Observe", func(ctx context.Context) error { return s.Observe(ctx, "T3", contacts("a"), t0) })
		call("RecordSave", func(ctx context.Context) error { return s.RecordSave(ctx, save("T2", "a", "b", t0.Add(time.Hour))) })
		call("LastChange", func(ctx context.Context) error { _, _, err := s.LastChange(ctx, "T2"); return err })
		call("List", func(ctx context.Context) error { _, err := s.List(ctx, "T2", Filter{}, Cursor{}, 10); return err })
		deadline := time.After(6 * time.Second)
		for range 4 {
			select {
			case o := <-outcomes:
				if o.err != nil || o.took > 2*time.Second {
					t.Errorf("%s of another tenant with %d of %d exports waiting on their readers: %v after %v; want done within 2 s",
						o.call, underWay, stalled, o.err, o.took.Round(time.Millisecond))
				}
			case <-deadline:
				t.Errorf("calls of another tenant still waiting after 6 s, with %d of %d exports waiting on their readers", underWay, stalled)
				return
			}
		}
		if underWay < stalled {
			t.Errorf("only %d of %d exports reached their callback: the others waited for a connection", underWay, stalled)
		}
	})

	t.Run("an export longer than a page gives each entry once, newest first, as it was when the export began", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		fill(t, s, "T1", 2*exportPageSize+3)
		want := all(t, s, "T1")
		slices.Reverse(want)
		var got []Entry
		err := s.Export(context.Background(), "T1", Filter{}, func(e Entry) error {
			if len(got) == 0 {
				// Entries recorded while the export runs (its callback may call the store) are
				// newer than where it began: they are not in it.
				mustObserve(t, s, "T1", contacts("during"), t0.Add(time.Hour))
			}
			got = append(got, e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("export of %d entries gave %d; first difference at %d", len(want), len(got), firstDifference(got, want))
		}
	})
}

func firstDifference(a, b []Entry) int {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return i
		}
	}
	return min(len(a), len(b))
}
