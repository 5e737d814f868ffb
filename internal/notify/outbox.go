package notify

import (
	"context"
	"time"
)

// Outbox is what the Sender needs of the store that keeps deliveries: the history store, which
// writes each notification's deliveries in the transaction of its history entry, so that a
// change recorded is a change told, whatever stops in between. Every method is safe for
// concurrent use, also by several replicas on one database (one Sender at a time sends; see
// Locker).
//
// The states: a delivery is pending from when it is queued until Delivered or GaveUp marks it;
// both are final (Retry and GaveUp change nothing of a delivered one, Retry nothing of one given
// up). Marking a delivery that is no longer kept (retention deleted its entry) is not an error.
// outboxtest.Contract is the test suite every implementation passes.
type Outbox interface {
	// Due returns up to limit pending deliveries whose next attempt is due at now (a delivery is
	// due from when it is queued until Retry puts its next attempt later), the longest queued
	// first.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Delivered marks a delivery as delivered at at.
	Delivered(ctx context.Context, key DeliveryKey, at time.Time) error
	// Retry keeps a delivery pending after failed attempts: attempts in all so far, the next due
	// at next, and why the last one failed (never holding a URL or the secret).
	Retry(ctx context.Context, key DeliveryKey, attempts int, next time.Time, lastError string) error
	// GaveUp marks a delivery as given up at at, with why the last attempt failed.
	GaveUp(ctx context.Context, key DeliveryKey, at time.Time, lastError string) error
}

// DeliveryKey names one delivery: a notification to a receiver (Receiver.Key).
type DeliveryKey struct {
	NotificationID string
	Receiver       string
}

// Delivery is a pending delivery as the outbox gives it to the Sender.
type Delivery struct {
	Receiver     string       // Receiver.Key of the receiver it goes to
	Attempts     int          // failed attempts so far
	Queued       time.Time    // when it was queued, with its history entry
	Notification Notification // what it tells (without Link, which the Sender sets)
}

// Key names the delivery.
func (d Delivery) Key() DeliveryKey {
	return DeliveryKey{NotificationID: d.Notification.ID, Receiver: d.Receiver}
}

// State is where a delivery stands.
type State string

const (
	Pending   State = "pending"   // not yet attempted, or retrying
	Delivered State = "delivered" // a receiver answered 2xx
	GaveUp    State = "gave_up"   // refused for good, or still failing a day after it was queued
)

// DeliveryState is what the history page needs to know of one delivery of an entry's
// notification.
type DeliveryState struct {
	Receiver  string
	State     State
	Attempts  int    // failed attempts so far
	LastError string // why the last attempt failed; never a URL or the secret
}

// Summary is what the history page says of an entry's notifications.
type Summary string

const (
	SummaryNone      Summary = ""          // nothing to tell: no receiver, or an entry that tells nothing
	SummarySending   Summary = "sending"   // not yet attempted
	SummaryDelivered Summary = "delivered" // every receiver has it
	SummaryRetrying  Summary = "retrying"  // an attempt failed (or waits for a receiver that failed); more will follow
	SummaryGaveUp    Summary = "gave_up"   // at least one receiver will never get it
)

// Summarize puts an entry's deliveries into one word, the worst first: gave up, then retrying,
// then sending, else delivered.
func Summarize(states []DeliveryState) Summary {
	if len(states) == 0 {
		return SummaryNone
	}
	worst := SummaryDelivered
	rank := map[Summary]int{SummaryDelivered: 0, SummarySending: 1, SummaryRetrying: 2, SummaryGaveUp: 3}
	for _, s := range states {
		var this Summary
		switch {
		case s.State == GaveUp:
			this = SummaryGaveUp
		case s.State == Pending && (s.Attempts > 0 || s.LastError != ""):
			this = SummaryRetrying
		case s.State == Pending:
			this = SummarySending
		default:
			this = SummaryDelivered
		}
		if rank[this] > rank[worst] {
			worst = this
		}
	}
	return worst
}
