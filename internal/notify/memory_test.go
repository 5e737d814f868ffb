package notify_test

import (
	"testing"
	"time"

	"pcsupport/internal/notify"
	"pcsupport/internal/notify/outboxtest"
)

func TestMemoryOutboxContract(t *testing.T) {
	outboxtest.Contract(t, func(t *testing.T) outboxtest.Subject {
		o := &notify.MemoryOutbox{}
		return outboxtest.Subject{
			Outbox: o,
			Enqueue: func(t *testing.T, n notify.Notification, receivers []string, queued time.Time) notify.Notification {
				o.Enqueue(n, receivers, queued)
				n.Link = ""
				return n
			},
			States: func(t *testing.T, entryID int64) []notify.DeliveryState { return o.States(entryID) },
		}
	})
}

// What the history page says of an entry's notifications: the worst of its deliveries.
func TestSummarize(t *testing.T) {
	delivered := notify.DeliveryState{State: notify.Delivered}
	sending := notify.DeliveryState{State: notify.Pending}
	retrying := notify.DeliveryState{State: notify.Pending, Attempts: 2, LastError: "HTTP 503"}
	heldBack := notify.DeliveryState{State: notify.Pending, LastError: "not attempted: the receiver failed just before: HTTP 503"}
	gaveUp := notify.DeliveryState{State: notify.GaveUp, Attempts: 4, LastError: "HTTP 404: no_service"}
	for _, tc := range []struct {
		states []notify.DeliveryState
		want   notify.Summary
	}{
		{nil, notify.SummaryNone},
		{[]notify.DeliveryState{delivered, delivered}, notify.SummaryDelivered},
		{[]notify.DeliveryState{delivered, sending}, notify.SummarySending},
		{[]notify.DeliveryState{sending, retrying, delivered}, notify.SummaryRetrying},
		{[]notify.DeliveryState{heldBack, delivered}, notify.SummaryRetrying},
		{[]notify.DeliveryState{retrying, gaveUp, delivered}, notify.SummaryGaveUp},
	} {
		if got := notify.Summarize(tc.states); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.states, got, tc.want)
		}
	}
}
