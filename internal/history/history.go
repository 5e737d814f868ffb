// Package history keeps the change history of each partner tenant's support contact details.
package history

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"pcsupport/internal/notify"
	"pcsupport/internal/support"
)

// Person is who made a save through the app.
type Person struct{ ObjectID, Name, Username string }

// Kind says how an entry came to be.
type Kind string

const (
	// KindBaseline is the state found the first time a tenant was seen: a starting point, not a change.
	KindBaseline Kind = "baseline"
	// KindSaved is a save made through the app.
	KindSaved Kind = "saved"
	// KindOutside is a change made elsewhere, noticed when the app read the values.
	KindOutside Kind = "outside"
)

// Entry is one step of a tenant's history.
type Entry struct {
	ID       int64
	TenantID string
	Kind     Kind
	At       time.Time       // when saved, or when noticed; UTC, millisecond precision
	By       Person          // KindSaved only
	Before   support.Contact // zero for a baseline
	After    support.Contact
	// Partner Center's ids of the save's request (KindSaved only).
	CorrelationID, RequestID string
	// RestoredFrom is the entry of the same tenant whose values this save put back (KindSaved
	// only; 0 when it put back none). That entry may since have gone with retention.
	RestoredFrom int64
}

// Save is a save made through the app that Partner Center confirmed.
type Save struct {
	TenantID string
	By       Person
	Before   support.Contact // what the save's check GET read
	After    support.Contact // what Partner Center stored
	// Partner Center's ids of the PUT.
	CorrelationID, RequestID string
	Started                  time.Time // when the save began (before its GET)
	At                       time.Time // when Partner Center confirmed it
	// RestoredFrom is the entry whose values the person put back ("Put these values back" on the
	// history page), 0 when none. An id that is not one of the tenant's entries is recorded as 0.
	RestoredFrom int64
}

// Key names a person who saved in a Filter: their object id, else (a sign-in without one) their
// user name.
func (p Person) Key() string {
	if p.ObjectID != "" {
		return p.ObjectID
	}
	return p.Username
}

// Filter narrows a tenant's history for List, Count and Export; the zero Filter is all of it.
// The conditions combine (and).
type Filter struct {
	// Field keeps the entries that changed this detail ("" any); a baseline changed none.
	Field support.Field
	// Kind keeps the saves made in this app (KindSaved) or the changes noticed outside it
	// (KindOutside); "" keeps every kind.
	Kind Kind
	// SavedBy keeps the saves of one person, by their Key; "" anyone's.
	SavedBy string
	// From and Until keep the entries stamped from From on and before Until; zero is no bound.
	From, Until time.Time
}

// Store keeps the history. Every method is safe for concurrent use, also by several stores
// (replicas) on one database.
type Store interface {
	// Observe records what a GET found: a baseline the first time the tenant is seen; an outside
	// entry when current differs from the last recorded state; nothing otherwise. at is when the
	// GET was sent: a read sent before the newest entry was recorded may predate it and records
	// nothing. Observers racing on the same change record it once.
	Observe(ctx context.Context, tenantID string, current support.Contact, at time.Time) error
	// RecordSave records a save made through the app. If the last recorded state differs from
	// s.Before, the outside change in between is recorded first (so the chain stays whole). An
	// outside entry that another replica recorded for this very save (its PUT applied, not yet
	// recorded) is claimed and becomes the saved entry. A save already recorded (same non-empty
	// RequestID) is not recorded again; a save that changed nothing records only what Observe would.
	RecordSave(ctx context.Context, s Save) error
	// List returns one page of the tenant's entries that f keeps, newest first (see Page and
	// Cursor: a cursor made with one filter is meant to be used with the same). A limit outside
	// 1..MaxPageSize means DefaultPageSize.
	List(ctx context.Context, tenantID string, f Filter, c Cursor, limit int) (Page, error)
	// Count is how many of the tenant's entries f keeps.
	Count(ctx context.Context, tenantID string, f Filter) (int, error)
	// Get is the tenant's entry id; ok false when the tenant has none of that id (another
	// tenant's id included).
	Get(ctx context.Context, tenantID string, id int64) (e Entry, ok bool, err error)
	// People are those who saved the tenant's values in this app, each once, as their newest
	// save names them, in no particular order.
	People(ctx context.Context, tenantID string) ([]Person, error)
	// LastChange is the newest saved or outside entry (not the baseline); ok false when none.
	LastChange(ctx context.Context, tenantID string) (e Entry, ok bool, err error)
	// Export calls fn for every entry that f keeps of those the tenant has when it begins (less
	// any that retention deletes meanwhile), newest first; it stops at fn's first error and
	// returns it. It holds a page of entries at a time, and no database connection while fn
	// runs: fn may take as long as its reader (a download over a slow link) and may call the store.
	Export(ctx context.Context, tenantID string, f Filter, fn func(Entry) error) error
	// DeleteBefore deletes entries older than cutoff, never the newest entry of a tenant (the state
	// outside changes are detected against); returns how many.
	DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error)

	// The store is the notifications' outbox: NotifyTo names the receivers (notify.Receiver.Key)
	// each change recorded from then on is queued for, in the transaction recording it;
	// DeliveryStates tells, per entry, how its deliveries stand.
	notify.Outbox
	NotifyTo(receivers []string)
	DeliveryStates(ctx context.Context, tenantID string, entryIDs []int64) (map[int64][]notify.DeliveryState, error)
	// The store keeps the watches of changes made outside the app (watches.go).
	Watches
	// Ping is a cheap round trip to the database, for readiness.
	Ping(ctx context.Context) error
	Close() error
}

const (
	// DefaultPageSize is the page size List uses when given none.
	DefaultPageSize = 50
	// MaxPageSize is the largest page List returns.
	MaxPageSize = 500
)

// Page is one page of entries, newest first, with cursors to the pages beside it (nil where
// there is nothing that way).
type Page struct {
	Entries      []Entry
	Older, Newer *Cursor
}

// Cursor points at a page by entry ids, so a bookmarked page stays the same while new entries
// arrive. The zero Cursor is the newest page; Before asks for entries with ID < Before (older),
// After for entries with ID > After, the nearest ones (newer).
type Cursor struct{ Before, After int64 }

// Encode gives the cursor as a URL query ("before=123", "after=456", "" for the newest page).
func (c Cursor) Encode() string {
	switch {
	case c.Before > 0:
		return "before=" + strconv.FormatInt(c.Before, 10)
	case c.After > 0:
		return "after=" + strconv.FormatInt(c.After, 10)
	}
	return ""
}

// ParseCursor reads a cursor from a URL query made by Encode. Anything else (missing, both,
// malformed, out of range) is the newest page: a stale or edited link shows the history anyway.
func ParseCursor(q url.Values) Cursor {
	before, after := q.Get("before"), q.Get("after")
	id := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return 0
		}
		return n
	}
	switch {
	case before != "" && after == "":
		return Cursor{Before: id(before)}
	case after != "" && before == "":
		return Cursor{After: id(after)}
	}
	return Cursor{}
}

// ErrSchemaTooNew stops a start on a database whose history schema a newer binary migrated past
// what this one can use (its newest migration's oldest reader is above what this binary knows).
var ErrSchemaTooNew = errors.New("history schema is newer than this binary can use")
