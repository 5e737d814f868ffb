package notify_test

import (
	"testing"

	"pcsupport/internal/history"
	"pcsupport/internal/notify"
)

// The package speaks of the history in the history's words, without importing it (the history
// store keeps the outbox and imports this package): the kinds, the person, the page's cursor.
func TestTheHistorysWords(t *testing.T) {
	if notify.KindSaved != string(history.KindSaved) || notify.KindOutside != string(history.KindOutside) {
		t.Errorf("kinds %q %q, history's %q %q", notify.KindSaved, notify.KindOutside, history.KindSaved, history.KindOutside)
	}
	// Compiles only while the two have the same fields.
	p := notify.Person(history.Person{ObjectID: "oid", Name: "Adèle", Username: "adele@contoso.example"})
	if p.Name != "Adèle" {
		t.Errorf("person %+v", p)
	}
	if got, want := notify.EntryLink("https://tools.example.com/partner/support/", 42), "https://tools.example.com/partner/support/history?"+(history.Cursor{Before: 43}).Encode(); got != want {
		t.Errorf("EntryLink = %q, want %q (the history page beginning with entry 42)", got, want)
	}
}
