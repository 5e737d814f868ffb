package history

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/support"
)

var (
	bob   = Person{ObjectID: "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", Name: "Bob Builder", Username: "bob@contoso.example"}
	carol = Person{Name: "Carol Client", Username: "carol@contoso.example"} // signed in without an object id
)

// changeSave is by's save from before to after, begun at started and confirmed 800 ms later.
func changeSave(tenantID string, by Person, before, after support.Contact, started time.Time) Save {
	tag := fmt.Sprint(started.UnixMilli())
	return Save{TenantID: tenantID, By: by, Before: before, After: after, CorrelationID: "corr-" + tag, RequestID: "req-" + tenantID + "-" + tag,
		Started: started, At: started.Add(800 * time.Millisecond)}
}

// filterContract: the history narrowed to what a person looks for, counted, paged and exported.
func filterContract(t *testing.T, newDatabase func(t *testing.T) string) {
	ctx := context.Background()
	t.Run("filters keep the entries of a field, a kind, a person and a time range, and combine", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		v0 := support.Contact{Email: "help@contoso.example", Telephone: "+1 425 555 0100", Website: "www.contoso.example"}
		v1 := v0.With(support.Telephone, "+1 425 555 0111")
		v2 := v1.With(support.Email, "desk@contoso.example")
		v3 := v2.With(support.Website, "support.contoso.example")
		v4 := v3.With(support.Telephone, "+33 1 23 45 67 89")
		v5 := v4.With(support.Email, "care@contoso.example").With(support.Website, "care.contoso.example")
		earlierBob := bob
		earlierBob.Name = "Bob B." // his name changed between his saves: the newest names him
		mustObserve(t, s, "T1", v0, t0)
		mustRecordSave(t, s, changeSave("T1", alice, v0, v1, t0.Add(time.Hour)))
		mustObserve(t, s, "T1", v2, t0.Add(2*time.Hour))
		mustRecordSave(t, s, changeSave("T1", earlierBob, v2, v3, t0.Add(3*time.Hour)))
		mustRecordSave(t, s, changeSave("T1", carol, v3, v4, t0.Add(4*time.Hour)))
		mustRecordSave(t, s, changeSave("T1", bob, v4, v5, t0.Add(5*time.Hour)))
		// Another tenant where alice saved too, and changed the telephone: never in T1's answers.
		mustObserve(t, s, "T2", v0, t0)
		mustRecordSave(t, s, changeSave("T2", alice, v0, v1, t0.Add(90*time.Minute)))

		es := all(t, s, "T1")
		if len(es) != 6 {
			t.Fatalf("%d entries, want 6", len(es))
		}
		base, aliceTel, outsideEmail, bobWeb, carolTel, bobBoth := es[0].ID, es[1].ID, es[2].ID, es[3].ID, es[4].ID, es[5].ID
		for _, c := range []struct {
			name string
			f    Filter
			want []int64 // newest first
		}{
			{"none", Filter{}, []int64{bobBoth, carolTel, bobWeb, outsideEmail, aliceTel, base}},
			{"telephone changed", Filter{Field: support.Telephone}, []int64{carolTel, aliceTel}},
			{"email changed", Filter{Field: support.Email}, []int64{bobBoth, outsideEmail}},
			{"website changed", Filter{Field: support.Website}, []int64{bobBoth, bobWeb}},
			{"saved in this app", Filter{Kind: KindSaved}, []int64{bobBoth, carolTel, bobWeb, aliceTel}},
			{"noticed outside", Filter{Kind: KindOutside}, []int64{outsideEmail}},
			{"alice's saves", Filter{SavedBy: alice.Key()}, []int64{aliceTel}},
			{"bob's saves, under either name", Filter{SavedBy: bob.Key()}, []int64{bobBoth, bobWeb}},
			{"carol's saves, by her user name", Filter{SavedBy: carol.Key()}, []int64{carolTel}},
			{"from one time until another", Filter{From: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, []int64{outsideEmail, aliceTel}},
			{"until a time", Filter{Until: t0.Add(time.Hour)}, []int64{base}},
			{"from a time", Filter{From: t0.Add(5 * time.Hour)}, []int64{bobBoth}},
			{"saves of the telephone from a time", Filter{Kind: KindSaved, Field: support.Telephone, From: t0.Add(2 * time.Hour)}, []int64{carolTel}},
			{"bob's telephone changes: none", Filter{SavedBy: bob.Key(), Field: support.Telephone}, nil},
			{"telephone changed outside: none", Filter{Kind: KindOutside, Field: support.Telephone}, nil},
			{"someone who never saved here", Filter{SavedBy: "nobody@contoso.example"}, nil},
		} {
			p, err := s.List(ctx, "T1", c.f, Cursor{}, 50)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p.Entries); !reflect.DeepEqual(got, c.want) || p.Newer != nil || p.Older != nil {
				t.Errorf("%s: List ids %v, newer %v, older %v; want %v alone", c.name, got, p.Newer, p.Older, c.want)
			}
			if n, err := s.Count(ctx, "T1", c.f); err != nil || n != len(c.want) {
				t.Errorf("%s: Count %d (%v), want %d", c.name, n, err, len(c.want))
			}
			var exported []int64
			if err := s.Export(ctx, "T1", c.f, func(e Entry) error { exported = append(exported, e.ID); return nil }); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(exported, c.want) {
				t.Errorf("%s: Export ids %v, want %v", c.name, exported, c.want)
			}
		}
		if n, err := s.Count(ctx, "T2", Filter{SavedBy: alice.Key(), Field: support.Telephone}); err != nil || n != 1 {
			t.Errorf("T2's count of alice's telephone change: %d (%v), want 1", n, err)
		}
	})

	t.Run("the people who saved are each named once, as their newest save names them, per tenant", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		earlierBob := bob
		earlierBob.Name = "Bob B."
		mustObserve(t, s, "T1", contacts("a"), t0)
		mustRecordSave(t, s, changeSave("T1", earlierBob, contacts("a"), contacts("b"), t0.Add(time.Hour)))
		mustRecordSave(t, s, changeSave("T1", alice, contacts("b"), contacts("c"), t0.Add(2*time.Hour)))
		mustRecordSave(t, s, changeSave("T1", carol, contacts("c"), contacts("d"), t0.Add(3*time.Hour)))
		mustRecordSave(t, s, changeSave("T1", bob, contacts("d"), contacts("e"), t0.Add(4*time.Hour)))
		mustObserve(t, s, "T1", contacts("f"), t0.Add(5*time.Hour)) // outside: nobody
		mustRecordSave(t, s, changeSave("T2", olgaOfT2, contacts("x"), contacts("y"), t0))
		byName := func(ps []Person) []Person {
			return slices.SortedFunc(slices.Values(ps), func(a, b Person) int { return strings.Compare(a.Name, b.Name) })
		}
		for tenant, want := range map[string][]Person{"T1": {alice, bob, carol}, "T2": {olgaOfT2}, "T3": nil} {
			got, err := s.People(ctx, tenant)
			if err != nil {
				t.Fatal(err)
			}
			if got = byName(got); !reflect.DeepEqual(got, want) {
				t.Errorf("People(%s) = %+v, want %+v", tenant, got, want)
			}
		}
	})

	t.Run("filtered pages walk both ways, stable while entries arrive", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		// 40 changes, the telephone and the email in turn, another tenant's entries in between.
		c := support.Contact{Email: "e@contoso.example", Telephone: "+1 425 555 0100", Website: "www.contoso.example"}
		mustObserve(t, s, "T1", c, t0)
		var telephone []int64 // newest first
		for i := range 40 {
			field := support.Telephone
			if i%2 == 1 {
				field = support.Email
			}
			c = c.With(field, fmt.Sprintf("%s-%d", field, i))
			mustObserve(t, s, "T1", c, t0.Add(time.Duration(i+1)*time.Minute))
			if i%5 == 0 {
				mustObserve(t, s, "other", contacts(fmt.Sprint(i)), t0.Add(time.Duration(i+1)*time.Minute))
			}
		}
		for _, e := range all(t, s, "T1") {
			if e.Kind == KindOutside && e.Before.Telephone != e.After.Telephone {
				telephone = append([]int64{e.ID}, telephone...)
			}
		}
		f := Filter{Field: support.Telephone}
		list := func(cur Cursor) Page { t.Helper(); return filteredPage(t, s, "T1", f, cur, 6) }
		var pages []Page
		for p := list(Cursor{}); ; p = list(*p.Older) {
			pages = append(pages, p)
			if p.Older == nil {
				break
			}
		}
		var walked []int64
		for i, p := range pages {
			walked = append(walked, ids(p.Entries)...)
			if (p.Newer == nil) != (i == 0) {
				t.Errorf("page %d: newer %v", i, p.Newer)
			}
		}
		if !reflect.DeepEqual(walked, telephone) || len(pages) != 4 {
			t.Fatalf("walked %d pages of ids %v, want 4 pages of the 20 telephone changes %v", len(pages), walked, telephone)
		}
		// New entries arrive, one of each field; the pages read before stay the same.
		c = c.With(support.Email, "e-new")
		mustObserve(t, s, "T1", c, t0.Add(time.Hour))
		c = c.With(support.Telephone, "t-new")
		mustObserve(t, s, "T1", c, t0.Add(time.Hour+time.Minute))
		back := pages[len(pages)-1]
		for i := len(pages) - 2; i >= 0; i-- {
			back = list(*back.Newer)
			if !reflect.DeepEqual(ids(back.Entries), ids(pages[i].Entries)) {
				t.Errorf("back to page %d: ids %v, want %v", i, ids(back.Entries), ids(pages[i].Entries))
			}
		}
		if back.Newer == nil {
			t.Fatal("the first page has no newer link after a telephone change arrived")
		}
		arrived := list(*back.Newer)
		if len(arrived.Entries) != 1 || arrived.Entries[0].After.Telephone != "t-new" || arrived.Newer != nil {
			t.Errorf("newer than the first page: %+v, newer %v; want the new telephone change alone", arrived.Entries, arrived.Newer)
		}
		if n, err := s.Count(ctx, "T1", f); err != nil || n != 21 {
			t.Errorf("Count %d (%v), want 21", n, err)
		}
	})
}

var olgaOfT2 = Person{ObjectID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", Name: "Olga Other", Username: "olga@fabrikam.example"}

func filteredPage(t *testing.T, s Store, tenantID string, f Filter, c Cursor, limit int) Page {
	t.Helper()
	p, err := s.List(context.Background(), tenantID, f, c, limit)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Entries {
		if e.Before.Telephone == e.After.Telephone || e.Kind == KindBaseline {
			t.Fatalf("List(%+v, %+v) gave entry %d, which the filter leaves out", f, c, e.ID)
		}
	}
	return p
}

// restoreContract: a save that puts back an earlier entry's values says which.
func restoreContract(t *testing.T, newDatabase func(t *testing.T) string) {
	ctx := context.Background()
	t.Run("a save that puts back an entry's values names it; an id not of the tenant's entries is not kept", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		mustObserve(t, s, "T2", contacts("x"), t0)
		mustRecordSave(t, s, save("T1", "a", "b", t0.Add(time.Hour)))
		first, theirs := all(t, s, "T1")[0], all(t, s, "T2")[0]

		back := save("T1", "b", "a", t0.Add(2*time.Hour))
		back.RestoredFrom = first.ID
		mustRecordSave(t, s, back)
		for i, other := range []int64{theirs.ID, 1 << 40} {
			sv := save("T1", []string{"a", "c"}[i], []string{"c", "d"}[i], t0.Add(time.Duration(3+i)*time.Hour))
			sv.RestoredFrom = other
			mustRecordSave(t, s, sv)
		}
		es := all(t, s, "T1")
		if got := []int64{es[1].RestoredFrom, es[2].RestoredFrom, es[3].RestoredFrom, es[4].RestoredFrom}; !reflect.DeepEqual(got, []int64{0, first.ID, 0, 0}) {
			t.Errorf("restored from %v, want only the save of a put back naming the first entry (%d)", got, first.ID)
		}
		if last, _, _ := s.LastChange(ctx, "T1"); last.RestoredFrom != 0 {
			t.Errorf("last change restored from %d, want 0", last.RestoredFrom)
		}
	})

	t.Run("a save that claims the entry another replica noticed still names what it put back", func(t *testing.T) {
		t.Parallel()
		spec := newDatabase(t)
		a, b := open(t, spec), open(t, spec)
		mustObserve(t, a, "T1", contacts("a"), t0)
		mustRecordSave(t, a, save("T1", "a", "b", t0.Add(time.Hour)))
		first := all(t, a, "T1")[0]
		sv := save("T1", "b", "a", t0.Add(2*time.Hour))
		sv.RestoredFrom = first.ID
		mustObserve(t, b, "T1", contacts("a"), sv.Started.Add(-time.Second))
		mustRecordSave(t, a, sv)
		es := all(t, b, "T1")
		if got := kinds(es); !reflect.DeepEqual(got, []Kind{KindBaseline, KindSaved, KindSaved}) || es[2].RestoredFrom != first.ID {
			t.Errorf("kinds %v, last restored from %d; want the claimed save naming the first entry (%d)", got, es[2].RestoredFrom, first.ID)
		}
	})

	t.Run("an entry is got by its id within its tenant only", func(t *testing.T) {
		t.Parallel()
		s := open(t, newDatabase(t))
		mustObserve(t, s, "T1", contacts("a"), t0)
		mustRecordSave(t, s, save("T1", "a", "b", t0.Add(time.Hour)))
		mustObserve(t, s, "T2", contacts("x"), t0)
		want := all(t, s, "T1")[1]
		if got, ok, err := s.Get(ctx, "T1", want.ID); !ok || err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Get(T1, %d) = %+v, %v, %v; want %+v", want.ID, got, ok, err, want)
		}
		for _, c := range []struct {
			tenant string
			id     int64
		}{{"T2", want.ID}, {"t1", want.ID}, {"T1", all(t, s, "T2")[0].ID}, {"T1", 0}, {"T1", -1}, {"T1", 1 << 40}} {
			if got, ok, err := s.Get(ctx, c.tenant, c.id); ok || err != nil {
				t.Errorf("Get(%s, %d) = %+v, %v, %v; want none", c.tenant, c.id, got, ok, err)
			}
		}
	})
}
