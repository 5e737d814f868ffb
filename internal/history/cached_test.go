package history

import (
	"context"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/support"
)

// countingStore counts the calls that reach the database.
type countingStore struct {
	Store
	mu                         sync.Mutex
	observes, saves, lastReads int
}

func (c *countingStore) Observe(ctx context.Context, tenantID string, current support.Contact, at time.Time) error {
	c.mu.Lock()
	c.observes++
	c.mu.Unlock()
	return c.Store.Observe(ctx, tenantID, current, at)
}

func (c *countingStore) RecordSave(ctx context.Context, s Save) error {
	c.mu.Lock()
	c.saves++
	c.mu.Unlock()
	return c.Store.RecordSave(ctx, s)
}

// recordSave passes on the last change the store tells with a save (see lastChangeRecorder).
func (c *countingStore) recordSave(ctx context.Context, s Save) (Entry, bool, error) {
	c.mu.Lock()
	c.saves++
	c.mu.Unlock()
	return c.Store.(lastChangeRecorder).recordSave(ctx, s)
}

func (c *countingStore) LastChange(ctx context.Context, tenantID string) (Entry, bool, error) {
	c.mu.Lock()
	c.lastReads++
	c.mu.Unlock()
	return c.Store.LastChange(ctx, tenantID)
}

func newCounted(t *testing.T, spec string, trustFor time.Duration) (*countingStore, Store) {
	counted := &countingStore{Store: open(t, spec)}
	return counted, Cached(counted, trustFor)
}

// Page views that find nothing new reach the database once, not each time.
func TestCachedPageViewsAskTheDatabaseOnce(t *testing.T) {
	db, s := newCounted(t, sqliteSpec(t), 0)
	for i := range 5 {
		mustObserve(t, s, "T1", contacts("a"), t0.Add(time.Duration(i)*time.Minute))
		if _, _, err := s.LastChange(context.Background(), "T1"); err != nil {
			t.Fatal(err)
		}
	}
	if db.observes != 1 || db.lastReads != 1 {
		t.Errorf("5 page views: %d observes and %d last-change reads reached the database, want 1 each", db.observes, db.lastReads)
	}
	// A save goes to the database, which tells the last change it made: the form that follows
	// asks nothing more. Other values go to the database; the last change is asked again after.
	if err := s.RecordSave(context.Background(), save("T1", "a", "b", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	last, ok, _ := s.LastChange(context.Background(), "T1")
	if !ok || last.Kind != KindSaved || db.saves != 1 || db.lastReads != 1 {
		t.Errorf("after a save: last change %v %v; %d saves and %d last-change reads reached the database, want 1 and 1",
			last.Kind, ok, db.saves, db.lastReads)
	}
	mustObserve(t, s, "T1", contacts("c"), t0.Add(2*time.Hour))
	last, _, _ = s.LastChange(context.Background(), "T1")
	if db.observes != 2 || last.Kind != KindOutside || last.After != contacts("c") {
		t.Errorf("other values: %d observes, last change %v to %v", db.observes, last.Kind, last.After)
	}
}

// A read sent before a save was recorded does not make the cache believe the older values are
// the newest: values that go back to them later are still noticed.
func TestCachedKnowsNoOlderThanTheDatabase(t *testing.T) {
	_, s := newCounted(t, sqliteSpec(t), 0)
	mustObserve(t, s, "T1", contacts("a"), t0)
	mustRecordSave(t, s, save("T1", "a", "b", t0.Add(time.Hour)))
	mustObserve(t, s, "T1", contacts("a"), t0.Add(time.Hour))   // sent before the save was confirmed
	mustObserve(t, s, "T1", contacts("a"), t0.Add(3*time.Hour)) // someone put the old values back
	if got := kinds(all(t, s, "T1")); len(got) != 3 || got[2] != KindOutside {
		t.Errorf("kinds %v, want the change back to the old values noticed", got)
	}
}

// With several replicas what one knows is trusted only for a while: a change another replica
// recorded is then seen.
func TestCachedTrustsReplicasForAWhile(t *testing.T) {
	spec := sqliteSpec(t)
	_, one := newCounted(t, spec, 50*time.Millisecond)
	_, two := newCounted(t, spec, 50*time.Millisecond)
	mustObserve(t, one, "T1", contacts("a"), t0)
	if _, _, err := one.LastChange(context.Background(), "T1"); err != nil {
		t.Fatal(err)
	}
	mustRecordSave(t, two, save("T1", "a", "b", t0.Add(time.Hour)))
	time.Sleep(60 * time.Millisecond)
	last, ok, _ := one.LastChange(context.Background(), "T1")
	if !ok || last.Kind != KindSaved {
		t.Errorf("replica one after its trust ran out: last change %v %v, want the other replica's save", last.Kind, ok)
	}
	mustObserve(t, one, "T1", contacts("a"), t0.Add(2*time.Hour)) // and back: noticed
	if got := kinds(all(t, two, "T1")); len(got) != 3 || got[2] != KindOutside {
		t.Errorf("kinds %v, want the change back noticed by replica one", got)
	}
}

func sqliteSpec(t *testing.T) string { return "sqlite:" + t.TempDir() + "/history.db" }
