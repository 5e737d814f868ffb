package history

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"pcsupport/internal/notify"
	"pcsupport/internal/notify/outboxtest"
	"pcsupport/internal/support"
)

// outboxContract: the store as the notifications' outbox, run against every backend through
// notify's own contract, and what only the history can say: which changes are told.
func outboxContract(t *testing.T, newDatabase func(t *testing.T) string) {
	t.Run("notify's outbox contract", func(t *testing.T) {
		t.Parallel()
		outboxtest.Contract(t, func(t *testing.T) outboxtest.Subject {
			s := open(t, newDatabase(t))
			var tenants atomic.Int64
			return outboxtest.Subject{
				Outbox: s,
				Enqueue: func(t *testing.T, n notify.Notification, receivers []string, queued time.Time) notify.Notification {
					// A real change of a tenant of its own, noticed at queued: its entry is n's.
					tenant := fmt.Sprintf("T%d", tenants.Add(1))
					s.NotifyTo(nil)
					mustObserve(t, s, tenant, n.Before, queued.Add(-time.Hour))
					s.NotifyTo(receivers)
					mustObserve(t, s, tenant, n.After, queued)
					e, ok, err := s.LastChange(context.Background(), tenant)
					if err != nil || !ok {
						t.Fatalf("the change queued no entry: %v", err)
					}
					return notificationOf(e)
				},
				States: func(t *testing.T, entryID int64) []notify.DeliveryState {
					for i := range tenants.Load() {
						states, err := s.DeliveryStates(context.Background(), fmt.Sprintf("T%d", i+1), []int64{entryID})
						if err != nil {
							t.Fatal(err)
						}
						if len(states[entryID]) > 0 {
							return states[entryID]
						}
					}
					return nil
				},
			}
		})
	})

	t.Run("each change is queued for each receiver with its entry; a baseline and a store without receivers queue none", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := open(t, newDatabase(t))
		t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
		first := support.Contact{Email: "a@contoso.example", Telephone: "+1 425 555 0100", Website: "www.contoso.example"}
		mustObserve(t, s, "T1", first, t0) // before receivers: nothing queued
		s.NotifyTo([]string{"teams-a", "standard-b"})
		mustObserve(t, s, "T2", first, t0) // a baseline: nothing to tell
		outside := first.With(support.Telephone, "+1 425 555 0101")
		mustObserve(t, s, "T1", outside, t0.Add(time.Minute))
		mustRecordSave(t, s, Save{TenantID: "T1", By: Person{ObjectID: "oid-ada", Name: "Ada Admin"}, Before: outside,
			After: outside.With(support.Website, "https://help.contoso.example"), RequestID: "req-1",
			Started: t0.Add(2 * time.Minute), At: t0.Add(2*time.Minute + time.Second)})
		due, err := s.Due(ctx, t0.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		var told []string
		for _, d := range due {
			told = append(told, fmt.Sprintf("%s %s %s", d.Notification.TenantID, d.Notification.Kind, d.Receiver))
		}
		want := []string{"T1 outside standard-b", "T1 outside teams-a", "T1 saved standard-b", "T1 saved teams-a"}
		if fmt.Sprint(told) != fmt.Sprint(want) {
			t.Errorf("queued %q, want %q", told, want)
		}
		if len(due) == 4 && (due[2].Notification.By.Name != "Ada Admin" || due[2].Notification.After.Website != "https://help.contoso.example") {
			t.Errorf("the save's notification: %+v", due[2].Notification)
		}
	})
}
