// Package outboxtest is the contract every notify.Outbox passes: the in-memory one here, and
// the history store's on SQLite and PostgreSQL.
package outboxtest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"pcsupport/internal/notify"
	"pcsupport/internal/support"
)

// Subject is an outbox under test, with what the contract needs besides the interface: a way
// to queue deliveries and a way to read their states back.
type Subject struct {
	Outbox notify.Outbox
	// Enqueue queues a delivery of n to each receiver at queued, as the store does beside n's
	// history entry, and returns n as stored: a store whose deliveries must belong to a real
	// entry may make one, and give n that entry's id and notification id.
	Enqueue func(t *testing.T, n notify.Notification, receivers []string, queued time.Time) notify.Notification
	// States returns the states of the deliveries of an entry's notification, in the order they
	// were queued, as the history page reads them.
	States func(t *testing.T, entryID int64) []notify.DeliveryState
}

// Contract runs the suite; open returns a new, empty outbox for each case.
func Contract(t *testing.T, open func(t *testing.T) Subject) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	t.Run("a queued delivery is due from when it was queued, its notification whole", func(t *testing.T) {
		s := open(t)
		want := s.Enqueue(t, sample(1, t0), []string{"teams-1", "slack-2"}, t0)
		if got := due(t, s, t0.Add(-time.Second), 10); len(got) != 0 {
			t.Errorf("due before it was queued: %v", got)
		}
		got := due(t, s, t0, 10)
		if len(got) != 2 {
			t.Fatalf("%d due, want 2 (one a receiver)", len(got))
		}
		receivers := []string{got[0].Receiver, got[1].Receiver}
		slices.Sort(receivers)
		if !slices.Equal(receivers, []string{"slack-2", "teams-1"}) {
			t.Errorf("receivers %v", receivers)
		}
		for _, d := range got {
			if d.Attempts != 0 || !d.Queued.Equal(t0) {
				t.Errorf("%s: attempts %d, queued %v; want 0, %v", d.Receiver, d.Attempts, d.Queued, t0)
			}
			if problem := differ(d.Notification, want); problem != "" {
				t.Errorf("%s: the notification came back changed: %s", d.Receiver, problem)
			}
			if d.Key() != (notify.DeliveryKey{NotificationID: want.ID, Receiver: d.Receiver}) {
				t.Errorf("key %v", d.Key())
			}
		}
	})

	t.Run("due the longest queued first, at most limit", func(t *testing.T) {
		s := open(t)
		var ids []string
		for i := range 3 {
			n := s.Enqueue(t, sample(int64(10+i), t0.Add(time.Duration(i)*time.Second)), []string{"standard-1"}, t0.Add(time.Duration(i)*time.Second))
			ids = append(ids, n.ID)
		}
		if got := idsOf(due(t, s, t0.Add(time.Hour), 2)); !slices.Equal(got, ids[:2]) {
			t.Errorf("limit 2: %v, want %v", got, ids[:2])
		}
		if got := idsOf(due(t, s, t0.Add(time.Hour), 10)); !slices.Equal(got, ids) {
			t.Errorf("limit 10: %v, want %v", got, ids)
		}
	})

	t.Run("a delivered delivery is never due again", func(t *testing.T) {
		s := open(t)
		n := s.Enqueue(t, sample(2, t0), []string{"standard-1"}, t0)
		key := notify.DeliveryKey{NotificationID: n.ID, Receiver: "standard-1"}
		if err := s.Outbox.Delivered(t.Context(), key, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := due(t, s, t0.Add(48*time.Hour), 10); len(got) != 0 {
			t.Errorf("due after delivery: %v", idsOf(got))
		}
		assertStates(t, s, n.EntryID, notify.DeliveryState{Receiver: "standard-1", State: notify.Delivered})
	})

	t.Run("a retry waits for its next attempt and keeps the attempts and why", func(t *testing.T) {
		s := open(t)
		n := s.Enqueue(t, sample(3, t0), []string{"slack-1"}, t0)
		key := notify.DeliveryKey{NotificationID: n.ID, Receiver: "slack-1"}
		if err := s.Outbox.Retry(t.Context(), key, 1, t0.Add(10*time.Second), "HTTP 503: down"); err != nil {
			t.Fatal(err)
		}
		if got := due(t, s, t0.Add(9*time.Second), 10); len(got) != 0 {
			t.Errorf("due before its next attempt: %v", idsOf(got))
		}
		got := due(t, s, t0.Add(10*time.Second), 10)
		if len(got) != 1 || got[0].Attempts != 1 || !got[0].Queued.Equal(t0) || differ(got[0].Notification, n) != "" {
			t.Fatalf("at its next attempt: %+v", got)
		}
		assertStates(t, s, n.EntryID, notify.DeliveryState{Receiver: "slack-1", State: notify.Pending, Attempts: 1, LastError: "HTTP 503: down"})
		if err := s.Outbox.Retry(t.Context(), key, 2, t0.Add(time.Minute), "no answer within 10s"); err != nil {
			t.Fatal(err)
		}
		if got := due(t, s, t0.Add(time.Minute), 10); len(got) != 1 || got[0].Attempts != 2 {
			t.Errorf("after the second retry: %+v", got)
		}
		assertStates(t, s, n.EntryID, notify.DeliveryState{Receiver: "slack-1", State: notify.Pending, Attempts: 2, LastError: "no answer within 10s"})
	})

	t.Run("a delivery given up is never due again and says why", func(t *testing.T) {
		s := open(t)
		n := s.Enqueue(t, sample(4, t0), []string{"teams-1"}, t0)
		key := notify.DeliveryKey{NotificationID: n.ID, Receiver: "teams-1"}
		if err := s.Outbox.Retry(t.Context(), key, 4, t0.Add(time.Minute), "HTTP 404: no_service"); err != nil {
			t.Fatal(err)
		}
		if err := s.Outbox.GaveUp(t.Context(), key, t0.Add(time.Minute), "HTTP 404: no_service"); err != nil {
			t.Fatal(err)
		}
		if got := due(t, s, t0.Add(48*time.Hour), 10); len(got) != 0 {
			t.Errorf("due after giving up: %v", idsOf(got))
		}
		assertStates(t, s, n.EntryID, notify.DeliveryState{Receiver: "teams-1", State: notify.GaveUp, Attempts: 4, LastError: "HTTP 404: no_service"})
	})

	// Two senders may both attempt a delivery when a Redis lock expires under one of them: the
	// later mark must not undo the earlier one's final state.
	t.Run("delivered and given up are final", func(t *testing.T) {
		s := open(t)
		n := s.Enqueue(t, sample(5, t0), []string{"a-1", "b-2"}, t0)
		delivered := notify.DeliveryKey{NotificationID: n.ID, Receiver: "a-1"}
		gaveUp := notify.DeliveryKey{NotificationID: n.ID, Receiver: "b-2"}
		ctx := t.Context()
		for _, err := range []error{
			s.Outbox.Delivered(ctx, delivered, t0),
			s.Outbox.Retry(ctx, delivered, 1, t0.Add(time.Minute), "late failure"),
			s.Outbox.GaveUp(ctx, delivered, t0.Add(time.Minute), "late give-up"),
			s.Outbox.GaveUp(ctx, gaveUp, t0, "HTTP 410"),
			s.Outbox.Retry(ctx, gaveUp, 1, t0.Add(time.Minute), "late failure"),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := due(t, s, t0.Add(48*time.Hour), 10); len(got) != 0 {
			t.Errorf("due again: %v", got)
		}
		assertStates(t, s, n.EntryID,
			notify.DeliveryState{Receiver: "a-1", State: notify.Delivered},
			notify.DeliveryState{Receiver: "b-2", State: notify.GaveUp, LastError: "HTTP 410"})
	})

	t.Run("each receiver's delivery goes its own way", func(t *testing.T) {
		s := open(t)
		n := s.Enqueue(t, sample(6, t0), []string{"a-1", "b-2"}, t0)
		ctx := t.Context()
		if err := s.Outbox.Delivered(ctx, notify.DeliveryKey{NotificationID: n.ID, Receiver: "a-1"}, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.Outbox.Retry(ctx, notify.DeliveryKey{NotificationID: n.ID, Receiver: "b-2"}, 1, t0.Add(time.Minute), "HTTP 500"); err != nil {
			t.Fatal(err)
		}
		got := due(t, s, t0.Add(time.Minute), 10)
		if len(got) != 1 || got[0].Receiver != "b-2" {
			t.Errorf("due: %+v, want b-2's alone", got)
		}
	})

	t.Run("marking a delivery that is not kept is no error and keeps nothing", func(t *testing.T) {
		s := open(t)
		n := s.Enqueue(t, sample(7, t0), []string{"a-1"}, t0)
		ctx := t.Context()
		gone := notify.DeliveryKey{NotificationID: n.ID, Receiver: "elsewhere-9"}
		for _, err := range []error{
			s.Outbox.Delivered(ctx, gone, t0),
			s.Outbox.Retry(ctx, gone, 1, t0, "x"),
			s.Outbox.GaveUp(ctx, gone, t0, "x"),
			s.Outbox.Delivered(ctx, notify.DeliveryKey{NotificationID: "msg_nobody", Receiver: "a-1"}, t0),
		} {
			if err != nil {
				t.Errorf("marking what is not kept: %v", err)
			}
		}
		if got := due(t, s, t0, 10); len(got) != 1 || got[0].Receiver != "a-1" {
			t.Errorf("due: %+v, want a-1's alone", got)
		}
	})

	t.Run("an entry's states are its own", func(t *testing.T) {
		s := open(t)
		first := s.Enqueue(t, sample(8, t0), []string{"a-1", "b-2"}, t0)
		second := s.Enqueue(t, sample(9, t0.Add(time.Second)), []string{"a-1"}, t0.Add(time.Second))
		if err := s.Outbox.Delivered(t.Context(), notify.DeliveryKey{NotificationID: second.ID, Receiver: "a-1"}, t0); err != nil {
			t.Fatal(err)
		}
		assertStates(t, s, first.EntryID,
			notify.DeliveryState{Receiver: "a-1", State: notify.Pending},
			notify.DeliveryState{Receiver: "b-2", State: notify.Pending})
		assertStates(t, s, second.EntryID, notify.DeliveryState{Receiver: "a-1", State: notify.Delivered})
	})
}

// sample is a notification with every field set, values that need escaping in every format.
func sample(entryID int64, at time.Time) notify.Notification {
	return notify.Notification{
		ID: notify.NotificationID(entryID, at), EntryID: entryID, TenantID: "11111111-2222-3333-4444-555555555555",
		Company: "Société <Contoso> & Fils — 東京", Kind: notify.KindSaved,
		By:     notify.Person{ObjectID: "oid-1", Name: "Adèle O'Brien", Username: "adele@contoso.example"},
		At:     at,
		Before: support.Contact{Email: "old@contoso.example", Telephone: "+33 1 23 45 67 89", Website: ""},
		After:  support.Contact{Email: "new@contoso.example", Telephone: "+33 1 23 45 67 89", Website: "https://contoso.example/?a=1&b=<2>"},
	}
}

func due(t *testing.T, s Subject, now time.Time, limit int) []notify.Delivery {
	t.Helper()
	got, err := s.Outbox.Due(t.Context(), now, limit)
	if err != nil {
		t.Fatalf("due: %v", err)
	}
	return got
}

func idsOf(ds []notify.Delivery) []string {
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.Notification.ID)
	}
	return ids
}

// differ says how two notifications differ, times compared as instants; "" when they do not.
func differ(got, want notify.Notification) string {
	if !got.At.Equal(want.At) {
		return "at " + got.At.String() + ", want " + want.At.String()
	}
	got.At, want.At = time.Time{}, time.Time{}
	want.Link = "" // not kept
	if got != want {
		return "got " + show(got) + ", want " + show(want)
	}
	return ""
}

func show(n notify.Notification) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func assertStates(t *testing.T, s Subject, entryID int64, want ...notify.DeliveryState) {
	t.Helper()
	if got := s.States(t, entryID); !slices.Equal(got, want) {
		t.Errorf("entry %d's delivery states:\n got %+v\nwant %+v", entryID, got, want)
	}
}
