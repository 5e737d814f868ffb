package history

import (
	"context"
	"reflect"
	"testing"
	"time"

	"pcsupport/internal/notify"
)

// watchContract: the watches of changes made outside the app.
func watchContract(t *testing.T, newDatabase func(t *testing.T) string) {
	ctx := context.Background()
	started := Watch{TenantID: "T1", StartedBy: alice, StartedAt: t0, Active: true, Token: "sealed-1"}

	t.Run("a watch is kept as started, one per tenant: starting again replaces it", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		s, replica := open(t, spec), open(t, spec)
		if _, ok, err := s.Watch(ctx, "T1"); ok || err != nil {
			t.Fatalf("a tenant never watched: ok %v, err %v", ok, err)
		}
		mustStartWatch(t, s, started)
		w, ok, err := replica.Watch(ctx, "T1")
		want := started
		want.StartedAt = ms(t0)
		if !ok || err != nil || !reflect.DeepEqual(w, want) {
			t.Fatalf("watch %+v (ok %v, err %v), want %+v", w, ok, err, want)
		}
		bob := Person{ObjectID: "oid-bob", Name: "Bob", Username: "bob@contoso.example"}
		mustStartWatch(t, s, Watch{TenantID: "T1", StartedBy: bob, StartedAt: t0.Add(time.Hour), Token: "sealed-2"})
		mustStartWatch(t, s, Watch{TenantID: "T2", StartedBy: bob, StartedAt: t0, Token: "sealed-3"})
		active, err := s.ActiveWatches(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(active) != 2 || active[0].TenantID != "T1" || active[0].StartedBy != bob || active[0].Token != "sealed-2" || !active[0].Active ||
			active[1].TenantID != "T2" {
			t.Errorf("active watches %+v: want T1 started again by Bob, and T2", active)
		}
	})

	t.Run("the rotated token replaces the one used, only while that one is the watch's", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustStartWatch(t, s, started)
		if ok, err := s.RenewWatchToken(ctx, "T1", "sealed-1", "sealed-1b"); !ok || err != nil {
			t.Fatalf("renew: %v %v", ok, err)
		}
		// A replica that used the old token late (its lock expired) changes nothing.
		if ok, err := s.RenewWatchToken(ctx, "T1", "sealed-1", "sealed-1c"); ok || err != nil {
			t.Errorf("renewing a token no longer kept: %v %v, want false", ok, err)
		}
		if err := s.WatchRead(ctx, "T1", "sealed-1b", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		w, _, _ := s.Watch(ctx, "T1")
		if w.Token != "sealed-1b" || !w.LastReadAt.Equal(ms(t0.Add(time.Minute))) {
			t.Errorf("watch %+v: want token sealed-1b, last read %v", w, ms(t0.Add(time.Minute)))
		}
		// Started again meanwhile: the old watch's renewal does not touch the new one.
		mustStartWatch(t, s, Watch{TenantID: "T1", StartedBy: alice, StartedAt: t0.Add(time.Hour), Token: "sealed-new"})
		if ok, _ := s.RenewWatchToken(ctx, "T1", "sealed-1b", "sealed-1d"); ok {
			t.Error("the old watch's renewal replaced the new watch's token")
		}
		if w, _, _ := s.Watch(ctx, "T1"); w.Token != "sealed-new" || !w.LastReadAt.IsZero() {
			t.Errorf("watch started again %+v: want its own token and no read yet", w)
		}
	})

	t.Run("a refused token stops the watch: when and why kept, the token deleted, the team notified once", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		s.NotifyTo([]string{"teams-a", "standard-b"})
		mustStartWatch(t, s, started)
		at := t0.Add(2 * time.Hour)
		if ok, err := s.StopRefusedWatch(ctx, "T1", "sealed-other", at, "x"); ok || err != nil {
			t.Errorf("stopping with a token the watch does not hold: %v %v, want false", ok, err)
		}
		if ok, err := s.StopRefusedWatch(ctx, "T1", "sealed-1", at, "invalid_grant: revoked"); !ok || err != nil {
			t.Fatalf("stop: %v %v", ok, err)
		}
		if ok, _ := s.StopRefusedWatch(ctx, "T1", "sealed-1", at.Add(time.Minute), "again"); ok {
			t.Error("a watch stopped twice")
		}
		w, ok, err := s.Watch(ctx, "T1")
		if !ok || err != nil || w.Active || w.Token != "" || !w.StoppedAt.Equal(ms(at)) || w.StopReason != "invalid_grant: revoked" || w.StartedBy != alice {
			t.Errorf("stopped watch %+v (ok %v, err %v)", w, ok, err)
		}
		if active, _ := s.ActiveWatches(ctx); len(active) != 0 {
			t.Errorf("still active: %+v", active)
		}
		if ok, _ := s.RenewWatchToken(ctx, "T1", "", "sealed-x"); ok {
			t.Error("a stopped watch took a token")
		}
		due, err := s.Due(ctx, at.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 2 {
			t.Fatalf("%d deliveries queued, want one per receiver: %+v", len(due), due)
		}
		for _, d := range due {
			n := d.Notification
			if n.Kind != notify.KindWatchStopped || n.TenantID != "T1" || n.By != notify.Person(alice) || n.Reason != "invalid_grant: revoked" ||
				!n.At.Equal(ms(at)) || n.ID != notify.WatchStoppedID("T1", at) || n.EntryID != 0 {
				t.Errorf("delivery to %s: %+v", d.Receiver, n)
			}
		}
		// The outbox marks it as any other.
		if err := s.Delivered(ctx, due[0].Key(), at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ending a watch deletes it and its token", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustStartWatch(t, s, started)
		if err := s.EndWatch(ctx, "T1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Watch(ctx, "T1"); ok || err != nil {
			t.Errorf("after EndWatch: ok %v, err %v", ok, err)
		}
		if n := queryInt(t, s, `SELECT COUNT(*) FROM watches WHERE sealed_token <> ''`); n != 0 {
			t.Errorf("%d tokens kept", n)
		}
		if err := s.EndWatch(ctx, "T1"); err != nil {
			t.Errorf("ending a watch that is not there: %v", err)
		}
	})
}

func mustStartWatch(t *testing.T, s Store, w Watch) {
	t.Helper()
	if err := s.StartWatch(context.Background(), w); err != nil {
		t.Fatal(err)
	}
}
