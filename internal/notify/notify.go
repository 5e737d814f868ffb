// Package notify tells the operator's receivers of every change the change history records: it
// turns a change into a notification, formats it for a Standard Webhooks receiver, a Microsoft
// Teams workflow or a Slack incoming webhook, and delivers it at least once, from an outbox the
// history store keeps, with retries for up to a day.
//
// Words: a notification is one change told to the operator's people; a delivery is one
// notification to one receiver; an attempt is one POST of a delivery.
//
// The package imports nothing of the app's but internal/support, so that the history store can
// keep the outbox (it imports this package; this package cannot import it).
package notify

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"pcsupport/internal/support"
)

// Kinds of change, as internal/history names them (history.Kind's values).
const (
	KindSaved   = "saved"   // a save made through the app
	KindOutside = "outside" // a change made elsewhere, noticed when the app read the values
	// KindWatchStopped is no change: the watch of changes made outside the app stopped, because
	// the sign-in provider refused the refresh token it kept (see watchstopped.go).
	KindWatchStopped = "watch_stopped"
)

// Person is who saved a change through the app: history.Person's fields, so that
// notify.Person(e.By) converts one.
type Person struct {
	ObjectID string `json:"object_id"`
	Name     string `json:"name"`
	Username string `json:"username"`
}

// Notification is what one change says: the history entry it tells of, the partner, what
// changed, who changed it and when. It is what the outbox keeps (as JSON, say) beside the entry.
type Notification struct {
	// ID is stable: every attempt of every delivery of this notification carries it (the
	// Standard Webhooks webhook-id), so that receivers can drop duplicates. See NotificationID.
	ID       string          `json:"id"`
	EntryID  int64           `json:"entry_id"`
	TenantID string          `json:"tenant_id"`
	Company  string          `json:"company,omitempty"` // the partner's name, when known
	Kind     string          `json:"kind"`              // KindSaved, KindOutside, KindWatchStopped (another kind is told as a change)
	By       Person          `json:"by"`                // KindSaved: who saved; KindWatchStopped: who started the watch
	At       time.Time       `json:"at"`                // when saved, or when noticed
	Before   support.Contact `json:"before"`
	After    support.Contact `json:"after"`
	// Reason is why the watch stopped (KindWatchStopped only), as the sign-in provider said.
	Reason string `json:"reason,omitempty"`

	// Link opens the history entry in the app. The Sender sets it from its Options.Link when it
	// formats the notification, so the outbox need not keep it.
	Link string `json:"-"`
}

// NotificationID is the id of the notification of a history entry: the entry's id and the
// millisecond it was recorded, so that it stays the same across restarts and redeliveries, and
// a history started afresh (ids counting from 1 again) does not repeat the ids a receiver has
// seen. It holds no '.', which the Standard Webhooks signature scheme forbids in ids.
func NotificationID(entryID int64, at time.Time) string {
	return "msg_" + strconv.FormatInt(entryID, 10) + "_" + strconv.FormatInt(at.UnixMilli(), 10)
}

// EntryLink is the address of a history entry in the app: the history page beginning with that
// entry (history.Cursor{Before: entryID + 1}.Encode()). The page shows the signed-in person's
// own partner, so the link serves the people of that partner.
func EntryLink(publicURL string, entryID int64) string {
	if entryID <= 0 {
		return publicURL // no entry (a watch that stopped): the app's page
	}
	return publicURL + "history?before=" + strconv.FormatInt(entryID+1, 10)
}

// Change is one detail's value before and after.
type Change struct {
	Field  support.Field `json:"field"`
	Before string        `json:"before"`
	After  string        `json:"after"`
}

// Changes lists the details that changed, in the order they are shown.
func (n Notification) Changes() []Change {
	var out []Change
	for _, f := range n.Before.Changed(n.After) {
		out = append(out, Change{Field: f, Before: n.Before.Get(f), After: n.After.Get(f)})
	}
	return out
}

// company is how the partner is named: its company name, or its tenant id when the name is
// not known.
func (n Notification) company() string { return cmp.Or(n.Company, n.TenantID) }

// title is the notification's first line.
func (n Notification) title() string { return n.company() + ": support contact changed" }

// who says who made the change, or that it was made outside the app.
func (n Notification) who() string {
	switch n.Kind {
	case KindSaved:
		name := cmp.Or(n.By.Name, n.By.Username, n.By.ObjectID, "someone")
		if n.By.Username != "" && n.By.Username != name {
			return fmt.Sprintf("Saved in this app by %s (%s)", name, n.By.Username)
		}
		return "Saved in this app by " + name
	case KindOutside:
		return "Changed outside this app (noticed when the app read it)"
	}
	return "Changed"
}

// when is the time of the change, in UTC, as people read it.
func (n Notification) when() string { return n.At.UTC().Format("2006-01-02 15:04:05 UTC") }

// fieldLabel is how a detail is named in messages.
func fieldLabel(f support.Field) string {
	switch f {
	case support.Email:
		return "Email"
	case support.Telephone:
		return "Telephone"
	case support.Website:
		return "Website"
	}
	return string(f)
}

// shown is a value as messages show it: an empty one says so.
func shown(v string) string {
	if v == "" {
		return "(empty)"
	}
	return v
}

const linkTitle = "Open in the change history"
