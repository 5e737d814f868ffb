package history

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// pagesContract walks the 120 entries of tenantID in pages of 50, older then newer, while new
// entries arrive; then pages at the edges.
func pagesContract(t *testing.T, s Store, tenantID string) {
	want := all(t, s, tenantID)
	list := func(c Cursor, limit int) Page { t.Helper(); return listPage(t, s, tenantID, c, limit) }
	newestFirst := func(from, to int) []int64 { // want[from:to], newest first
		var out []int64
		for i := to - 1; i >= from; i-- {
			out = append(out, want[i].ID)
		}
		return out
	}

	p1 := list(Cursor{}, 50)
	if got := ids(p1.Entries); !reflect.DeepEqual(got, newestFirst(70, 120)) || p1.Newer != nil || p1.Older == nil {
		t.Fatalf("newest page: ids %v, newer %v, older %v; want the newest 50, an older link only", got, p1.Newer, p1.Older)
	}
	for i := range 5 { // arriving while someone reads the pages
		mustObserve(t, s, tenantID, contacts(fmt.Sprint("new", i)), t0.Add(time.Duration(200+i)*time.Minute))
	}
	p2 := list(*p1.Older, 50)
	if got := ids(p2.Entries); !reflect.DeepEqual(got, newestFirst(20, 70)) || p2.Newer == nil || p2.Older == nil {
		t.Fatalf("second page: ids %v, newer %v, older %v; want the next 50, both links", got, p2.Newer, p2.Older)
	}
	p3 := list(*p2.Older, 50)
	if got := ids(p3.Entries); !reflect.DeepEqual(got, newestFirst(0, 20)) || p3.Newer == nil || p3.Older != nil {
		t.Fatalf("last page: ids %v, newer %v, older %v; want the oldest 20, a newer link only", got, p3.Newer, p3.Older)
	}
	if p3.Entries[19].Kind != KindBaseline {
		t.Errorf("the oldest entry is %s, want the baseline", p3.Entries[19].Kind)
	}

	back2 := list(*p3.Newer, 50)
	if !reflect.DeepEqual(back2, p2) {
		t.Errorf("back from the last page: ids %v, want the second page %v", ids(back2.Entries), ids(p2.Entries))
	}
	back1 := list(*back2.Newer, 50)
	if got := ids(back1.Entries); !reflect.DeepEqual(got, ids(p1.Entries)) || back1.Newer == nil {
		t.Errorf("back to the first page: ids %v, newer %v; want the first page's entries and a link to the new ones", got, back1.Newer)
	}
	arrived := list(*back1.Newer, 50)
	if got := arrived.Entries; len(got) != 5 || got[0].After != contacts("new4") || arrived.Newer != nil || arrived.Older == nil {
		t.Errorf("newest after the arrivals: %d entries, newer %v; want the 5 new, newest first, no newer link", len(got), arrived.Newer)
	}
	if e := list(*arrived.Older, 50).Entries; len(e) != 50 || e[0].ID != p1.Entries[0].ID {
		t.Errorf("older from the new entries: starts at %d, want %d", e[0].ID, p1.Entries[0].ID)
	}

	pageEdges(t, s, tenantID, want[0].ID, arrived.Entries[0].ID)
}

// pageEdges asks for pages past either end and with page sizes out of range.
func pageEdges(t *testing.T, s Store, tenantID string, oldestID, newestID int64) {
	list := func(c Cursor, limit int) Page { t.Helper(); return listPage(t, s, tenantID, c, limit) }
	for _, limit := range []int{0, -1, MaxPageSize + 1} {
		if n := len(list(Cursor{}, limit).Entries); n != DefaultPageSize {
			t.Errorf("limit %d: %d entries, want %d", limit, n, DefaultPageSize)
		}
	}
	if p := list(Cursor{}, 1); len(p.Entries) != 1 || p.Older == nil {
		t.Errorf("limit 1: %d entries, older %v", len(p.Entries), p.Older)
	}
	// Past either end (a link older than retention, an edited or overflowing id) the history is
	// shown anyway: its newest page.
	for _, c := range []Cursor{{Before: oldestID}, {Before: 1}, {After: newestID}, {After: math.MaxInt64 - 1}, {After: math.MaxInt64}} {
		if p := list(c, 50); len(p.Entries) == 0 || p.Entries[0].ID != newestID || p.Newer != nil {
			t.Errorf("%+v: %d entries, newer %v; want the newest page", c, len(p.Entries), p.Newer)
		}
	}
}

func listPage(t *testing.T, s Store, tenantID string, c Cursor, limit int) Page {
	t.Helper()
	p, err := s.List(context.Background(), tenantID, Filter{}, c, limit)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(es []Entry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestCursorQuery(t *testing.T) {
	for query, want := range map[string]Cursor{
		"":                            {},
		"before=123":                  {Before: 123},
		"after=456":                   {After: 456},
		"after=456&page=2":            {After: 456},
		"before=1&after=2":            {},
		"before=0":                    {},
		"before=-5":                   {},
		"before=12a":                  {},
		"before=99999999999999999999": {},
		"before=9223372036854775807":  {Before: math.MaxInt64},
		"after=%zz":                   {},
		"before=+7":                   {}, // + is a space in a query
		"before=&after=3":             {After: 3},
	} {
		q, _ := url.ParseQuery(query)
		if got := ParseCursor(q); got != want {
			t.Errorf("ParseCursor(%q) = %+v, want %+v", query, got, want)
		}
	}
	for _, c := range []Cursor{{}, {Before: 1}, {After: 77}} {
		q, err := url.ParseQuery(c.Encode())
		if got := ParseCursor(q); err != nil || got != c {
			t.Errorf("%+v encodes as %q, which parses as %+v (%v)", c, c.Encode(), got, err)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"before=1", "after=2", "before=-1", "after=9223372036854775808", "a=%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, _ := url.ParseQuery(query)
		c := ParseCursor(q)
		if c.Before < 0 || c.After < 0 || c.Before > 0 && c.After > 0 {
			t.Fatalf("ParseCursor(%q) = %+v", query, c)
		}
		again, _ := url.ParseQuery(c.Encode())
		if ParseCursor(again) != c {
			t.Fatalf("%+v does not survive Encode", c)
		}
	})
}
