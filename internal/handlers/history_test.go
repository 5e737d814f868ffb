package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/i18n"
	"pcsupport/internal/notify"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

var (
	ada  = auth.User{Subject: "s-ada", ObjectID: "oid-ada", Name: "Ada Admin", Username: "ada@contoso.example", TenantID: "Tenant-A", AMR: []string{"pwd", "mfa"}}
	olga = auth.User{Subject: "s-olga", ObjectID: "oid-olga", Name: "Olga Other", Username: "olga@fabrikam.example", TenantID: "tenant-b", AMR: []string{"pwd", "mfa"}}
)

// historyApp is the handlers of one signed-in person, with a change history, behind a server.
type historyApp struct {
	*liveTestbed
	tb     *testbed
	mu     sync.Mutex
	failed []string // what HistoryWriteObserver was told
}

func openSQLiteHistory(t *testing.T) *history.SQLiteStore {
	t.Helper()
	s, err := history.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newHistoryApp is the testbed's handlers with store as the change history, u signed in, and
// Partner Center holding Contoso's first values.
func newHistoryApp(t *testing.T, u auth.User, store History, configure ...func(*Options)) *historyApp {
	t.Helper()
	a := &historyApp{}
	a.tb = newTestbed(t, append([]func(*Options){func(o *Options) {
		o.History = store
		o.ObserveHistoryFailure = func(write string) { a.mu.Lock(); a.failed = append(a.failed, write); a.mu.Unlock() }
	}}, configure...)...)
	a.tb.auth.user = &u
	a.liveTestbed = a.tb.serve()
	return a
}

// save loads the form, sets the values and saves it as htmx does; it returns the fragment.
func (a *historyApp) save(values map[string]string, header ...string) (*http.Response, *goquery.Document) {
	a.t.Helper()
	_, doc := a.get("", header...)
	form := url.Values{}
	doc.Find("#profile form input").Each(func(_ int, s *goquery.Selection) { form.Set(s.AttrOr("name", ""), s.AttrOr("value", "")) })
	for k, v := range values {
		form.Set(k, v)
	}
	return a.postSave(form, header...)
}

// postSave sends form to the save as htmx does.
func (a *historyApp) postSave(form url.Values, header ...string) (*http.Response, *goquery.Document) {
	a.t.Helper()
	return a.post("save", form, append([]string{"HX-Request", "true"}, header...)...)
}

// shownEntry is an entry of the history page as a person reads it.
type shownEntry struct {
	When, Datetime, Summary string
	Changes                 []string // "Telephone: Before: x After: y"
	Values, Details         []string // "Email support@..."
	Notified                string   // "Notifications: Delivered to every receiver"
}

func historyEntries(doc *goquery.Document) []shownEntry {
	var out []shownEntry
	doc.Find("#history > li").Each(func(_ int, li *goquery.Selection) {
		e := shownEntry{When: text(li.Find("h2")), Datetime: li.Find("h2 time").AttrOr("datetime", ""), Summary: text(li.Find("p").First())}
		li.Find("dl.space-y-2 > div").Each(func(_ int, d *goquery.Selection) {
			e.Changes = append(e.Changes, text(d.Find("dt"))+": "+text(d.Find("dd").First())+" "+text(d.Find("dd").Last()))
		})
		e.Notified = text(li.Find("p.notified"))
		li.Find("dl.grid").Each(func(i int, dl *goquery.Selection) {
			dl.Find("dt").Each(func(_ int, dt *goquery.Selection) {
				fact := text(dt) + " " + text(dt.Next())
				if strings.Contains(dl.AttrOr("class", ""), "text-xs") {
					e.Details = append(e.Details, fact)
				} else {
					e.Values = append(e.Values, fact)
				}
			})
		})
		out = append(out, e)
	})
	return out
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

// A save made here is recorded with who, when, before, after and Partner Center's ids; the line
// under the form tells of it at once; the values first read are the starting point, shown last
// and not as a change.
func TestHistoryRecordsASaveMadeHere(t *testing.T) {
	a := newHistoryApp(t, ada, openSQLiteHistory(t))
	_, doc := a.get("")
	if got := text(doc.Find("#last-change")); !strings.Contains(got, "No change recorded since this app first read these values") ||
		doc.Find(`#last-change a[href="/history"]`).Length() != 1 {
		t.Errorf("line under a first form: %q", got)
	}

	resp, frag := a.save(map[string]string{"telephone": "+33 1 23 45 67 89"})
	if resp.StatusCode != http.StatusOK || frag.Find("#notice").Length() != 1 {
		t.Fatalf("save: %d %s", resp.StatusCode, text(frag.Selection))
	}
	if got := text(frag.Find("#notice")); strings.Contains(got, "history") {
		t.Errorf("the saved notice speaks of the history though it was written: %q", got)
	}
	line := frag.Find("#last-change")
	if got := text(line); !strings.HasPrefix(got, "Last changed just now (") || !strings.Contains(got, " UTC) by Ada Admin.") {
		t.Errorf("line under the form after the save: %q", got)
	}
	if dt := line.Find("time").AttrOr("datetime", ""); !strings.HasSuffix(dt, "Z") || line.Find("time").AttrOr("title", "") == "" {
		t.Errorf("the time has no machine form or no full form on hover: %s", line.Find("time").AttrOr("datetime", "-"))
	}

	resp, doc = a.get("history")
	entries := historyEntries(doc)
	if resp.StatusCode != http.StatusOK || len(entries) != 2 {
		t.Fatalf("history: %d, %d entries\n%s", resp.StatusCode, len(entries), text(doc.Find("main")))
	}
	saved, first := entries[0], entries[1]
	if saved.Summary != "Saved in this app by Ada Admin (ada@contoso.example)" ||
		!slices.Equal(saved.Changes, []string{"Telephone: Before: 4255550100 After: +33 1 23 45 67 89"}) {
		t.Errorf("saved entry: %+v", saved)
	}
	put := a.tb.pc.requests[len(a.tb.pc.requests)-1]
	if !slices.Equal(saved.Details, []string{"Correlation id " + put.CorrelationID, "Request id " + put.RequestID}) || put.RequestID == "" {
		t.Errorf("saved entry's ids %v, the PUT's %s / %s", saved.Details, put.CorrelationID, put.RequestID)
	}
	if !strings.HasPrefix(first.Summary, "First recorded") || len(first.Changes) != 0 ||
		!slices.Equal(first.Values, []string{"Email support@contoso.example", "Telephone 4255550100", "Website www.contoso.example"}) {
		t.Errorf("first entry is not the starting point: %+v", first)
	}
	if doc.Find("#history-empty").Length() != 0 || doc.Find(`nav a[rel]`).Length() != 0 {
		t.Error("one page of history says it is empty or links to other pages")
	}
}

// A change made elsewhere is noticed when the page loads: one entry, "outside this app", with
// before and after and nobody named; the line under the form says so with the date in full.
func TestHistoryNoticesAnOutsideChangeOnLoad(t *testing.T) {
	a := newHistoryApp(t, ada, openSQLiteHistory(t))
	a.get("")
	a.tb.pc.set("help@contoso.example", "4255550100", "www.contoso.example")
	_, doc := a.get("")
	a.get("") // seen again: nothing new
	line := text(doc.Find("#last-change"))
	if !strings.HasPrefix(line, "Changed outside this app; noticed on ") || !strings.Contains(line, " UTC.") {
		t.Errorf("line under the form: %q", line)
	}
	_, doc = a.get("history")
	entries := historyEntries(doc)
	if len(entries) != 2 {
		t.Fatalf("%d entries, want the outside change and the first record: %+v", len(entries), entries)
	}
	if e := entries[0]; !strings.HasPrefix(e.Summary, "Changed outside this app") || strings.Contains(e.Summary, "Ada") ||
		!slices.Equal(e.Changes, []string{"Email: Before: support@contoso.example After: help@contoso.example"}) || len(e.Details) != 0 {
		t.Errorf("outside entry: %+v", e)
	}
}

// A save's check that finds values changed elsewhere records that change, whether the save then
// stops (someone else changed it) or finds the typed values already there; a refused save
// records nothing of its own.
func TestHistoryNoticesAnOutsideChangeOnASavesCheck(t *testing.T) {
	a := newHistoryApp(t, ada, openSQLiteHistory(t))
	_, doc := a.get("")
	form := url.Values{}
	doc.Find("#profile form input").Each(func(_ int, s *goquery.Selection) { form.Set(s.AttrOr("name", ""), s.AttrOr("value", "")) })

	a.tb.pc.set("support@contoso.example", "4255550111", "www.contoso.example")
	form.Set("website", "www.mine.example")
	if resp, _ := a.postSave(form); resp.StatusCode != http.StatusConflict {
		t.Fatalf("save over a change made elsewhere: %d, want the conflict", resp.StatusCode)
	}
	a.tb.pc.set("support@contoso.example", "4255550122", "www.mine.example")
	form.Set("telephone", "4255550122")
	form.Set("submission", newSubmissionID())
	if resp, frag := a.postSave(form); resp.StatusCode != http.StatusOK || !strings.Contains(text(frag.Find("#notice")), "already has these values") {
		t.Fatalf("save of values already there: %d %s", resp.StatusCode, text(frag.Find("#notice")))
	}
	a.tb.pc.mu.Lock()
	a.tb.pc.getErrs = []error{&pcclient.Error{Kind: pcclient.KindForbidden, Status: 403, Code: "900150"}}
	a.tb.pc.mu.Unlock()
	form.Set("telephone", "4255550133")
	form.Set("submission", newSubmissionID())
	if resp, _ := a.postSave(form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("refused save: %d", resp.StatusCode)
	}

	_, doc = a.get("history")
	var got []string
	for _, e := range historyEntries(doc) {
		got = append(got, strings.SplitN(e.Summary, " ", 2)[0]+" "+strings.Join(e.Changes, "; "))
	}
	want := []string{
		"Changed Telephone: Before: 4255550111 After: 4255550122; Website: Before: www.contoso.example After: www.mine.example",
		"Changed Telephone: Before: 4255550100 After: 4255550111",
		"First ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// 50 entries to a page, newest first, with links to the older and newer pages that are stable
// while new entries arrive; an edited cursor still shows the history.
func TestHistoryPages(t *testing.T) {
	store := openSQLiteHistory(t)
	a := newHistoryApp(t, ada, store)
	at := time.Date(2026, 11, 28, 10, 42, 0, 0, time.UTC)
	for i := range 120 { // a baseline and 119 outside changes
		c := support.Contact{Email: fmt.Sprintf("s%03d@contoso.example", i), Telephone: "4255550100", Website: "www.contoso.example"}
		if err := store.Observe(context.Background(), "tenant-a", c, at.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	emailAfter := func(e shownEntry) string {
		if len(e.Values) > 0 {
			return strings.TrimPrefix(e.Values[0], "Email ")
		}
		return e.Changes[0][strings.LastIndex(e.Changes[0], " ")+1:]
	}
	var seen []string
	page, path := 0, "history"
	var newerOfSecond string
	for path != "" {
		_, doc := a.get(path)
		entries := historyEntries(doc)
		if want := []int{50, 50, 20}[page]; len(entries) != want {
			t.Fatalf("page %d has %d entries, want %d", page, len(entries), want)
		}
		for _, e := range entries {
			seen = append(seen, emailAfter(e))
		}
		newer, older := doc.Find(`nav a[rel="prev"]`).AttrOr("href", ""), doc.Find(`nav a[rel="next"]`).AttrOr("href", "")
		if (newer == "") != (page == 0) || (older == "") != (page == 2) {
			t.Errorf("page %d links: newer %q, older %q", page, newer, older)
		}
		if page == 1 {
			newerOfSecond = newer
		}
		path, page = strings.TrimPrefix(older, "/"), page+1
	}
	for i, email := range seen {
		if want := fmt.Sprintf("s%03d@contoso.example", 119-i); email != want {
			t.Fatalf("entry %d shows %s, want %s (newest first, each once)", i, email, want)
		}
	}
	if err := store.Observe(context.Background(), "tenant-a", support.Contact{Email: "new@contoso.example"}, at.Add(time.Hour*3)); err != nil {
		t.Fatal(err)
	}
	_, doc := a.get(strings.TrimPrefix(newerOfSecond, "/"))
	if es := historyEntries(doc); len(es) != 50 || emailAfter(es[0]) != "s119@contoso.example" {
		t.Errorf("the newer link of page 2 no longer leads to the same page after a new entry")
	}
	for _, edited := range []string{"history?before=abc", "history?before=1&after=2", "history?after=-4",
		"history?after=9223372036854775807", "history?after=9223372036854775806", "history?before=1"} {
		if _, doc := a.get(edited); len(historyEntries(doc)) != 50 {
			t.Errorf("%s does not show the newest page", edited)
		}
	}
}

// A person sees only their own partner tenant's history, whatever cursor they put in the URL,
// and their exports hold only theirs.
func TestHistoryTenantIsolation(t *testing.T) {
	store := openSQLiteHistory(t)
	contoso := newHistoryApp(t, ada, store)
	fabrikam := newHistoryApp(t, olga, store)
	fabrikam.tb.pc.set("help@fabrikam.example", "4255550999", "www.fabrikam.example")

	contoso.save(map[string]string{"email": "secret-contoso@contoso.example"})
	_, doc := fabrikam.get("history")
	if n := len(historyEntries(doc)); n != 0 || !strings.Contains(text(doc.Find("#history-empty")), "Nothing has been recorded yet") {
		t.Errorf("Olga's history before she opened anything: %d entries, %q", n, text(doc.Find("#history-empty")))
	}
	fabrikam.save(map[string]string{"telephone": "4255550998"})

	var ids []int64
	_ = store.Export(context.Background(), "tenant-a", history.Filter{}, func(e history.Entry) error { ids = append(ids, e.ID); return nil })
	paths := []string{"history", "history.csv", "history.json"}
	for _, id := range append(ids, 0, 1, 1<<40) {
		for _, q := range []string{"before", "after"} {
			paths = append(paths, fmt.Sprintf("history?%s=%d", q, id+1), fmt.Sprintf("history?%s=%d", q, id))
		}
	}
	paths = append(paths, "history?tenant=tenant-a", "history.csv?tenant=Tenant-A")
	for _, p := range paths {
		resp, err := fabrikam.client.Get(fabrikam.url + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, leak := range []string{"contoso", "Ada", "4255550100"} {
			if strings.Contains(string(body), leak) {
				t.Errorf("Olga's %s shows %q of another partner", p, leak)
			}
		}
	}
	_, doc = fabrikam.get("history")
	if es := historyEntries(doc); len(es) != 2 || es[0].Summary != "Saved in this app by Olga Other (olga@fabrikam.example)" {
		t.Errorf("Olga's history: %+v", es)
	}
	// The tenant id is compared as Entra ID writes it (lowercase): "Tenant-A" is tenant-a.
	if _, doc := contoso.get("history"); len(historyEntries(doc)) != 2 {
		t.Errorf("Ada's history: %d entries", len(historyEntries(doc)))
	}
}

// failingHistory is a history store that is down.
type failingHistory struct{}

var errHistoryDown = errors.New("database is down")

func (failingHistory) Observe(context.Context, string, support.Contact, time.Time) error {
	return errHistoryDown
}
func (failingHistory) RecordSave(context.Context, history.Save) error { return errHistoryDown }
func (failingHistory) List(context.Context, string, history.Filter, history.Cursor, int) (history.Page, error) {
	return history.Page{}, errHistoryDown
}
func (failingHistory) Count(context.Context, string, history.Filter) (int, error) {
	return 0, errHistoryDown
}
func (failingHistory) Get(context.Context, string, int64) (history.Entry, bool, error) {
	return history.Entry{}, false, errHistoryDown
}
func (failingHistory) People(context.Context, string) ([]history.Person, error) {
	return nil, errHistoryDown
}
func (failingHistory) LastChange(context.Context, string) (history.Entry, bool, error) {
	return history.Entry{}, false, errHistoryDown
}
func (failingHistory) Export(context.Context, string, history.Filter, func(history.Entry) error) error {
	return errHistoryDown
}
func (failingHistory) DeliveryStates(context.Context, string, []int64) (map[int64][]notify.DeliveryState, error) {
	return nil, errHistoryDown
}

// With the history store down the page and saving keep working: the save is made, its notice
// says the history lacks it, the audit record is written and the failure counted; the history
// page and the exports say the history cannot be read.
func TestHistoryStoreDown(t *testing.T) {
	a := newHistoryApp(t, ada, failingHistory{})
	resp, doc := a.get("")
	if resp.StatusCode != http.StatusOK || doc.Find("#telephone").Length() != 1 ||
		!strings.Contains(text(doc.Find("#last-change")), "The change history cannot be read right now.") {
		t.Errorf("form with the history down: %d %q", resp.StatusCode, text(doc.Find("#last-change")))
	}
	resp, frag := a.save(map[string]string{"telephone": "+33 1 23 45 67 89"})
	notice := text(frag.Find("#notice"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(notice, "Saved.") ||
		!strings.Contains(notice, "The change history could not record this save right now; the app's audit log has it.") {
		t.Errorf("save with the history down: %d %q", resp.StatusCode, notice)
	}
	tel := a.tb.pc.current().Telephone
	if tel != "+33 1 23 45 67 89" {
		t.Errorf("Partner Center holds %q", tel)
	}
	if !strings.Contains(a.tb.audit.String(), `"outcome":"saved"`) {
		t.Errorf("no audit record of the save: %s", a.tb.audit.String())
	}
	a.mu.Lock()
	failed := strings.Join(a.failed, ",")
	a.mu.Unlock()
	if failed != "observe,observe,save" { // two page loads, one save
		t.Errorf("failed writes counted: %q", failed)
	}
	for _, p := range []string{"history", "history.csv", "history.json"} {
		resp, doc := a.get(p)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(text(doc.Find("main")), "The change history cannot be read right now.") {
			t.Errorf("%s with the history down: %d %q", p, resp.StatusCode, text(doc.Find("main")))
		}
	}
}

// The same save without JavaScript: the notice after the redirect says the history lacks it.
func TestSavedNoticeAcrossTheRedirectSaysTheHistoryLacksIt(t *testing.T) {
	l := i18n.Default().Get("fr")
	n := savedNotice(l, savedChange{HistoryNotRecorded: true})
	if got := n.Lines[len(n.Lines)-1]; got != l.T("save.historyNotRecorded") || !strings.Contains(got, "historique") {
		t.Errorf("last line %q", got)
	}
	b, _ := json.Marshal(savedChange{HistoryNotRecorded: true})
	var back savedChange
	if json.Unmarshal(b, &back) != nil || !back.HistoryNotRecorded {
		t.Errorf("the flag does not survive the redirect: %s", b)
	}
}

// The history in French: dates with French month names, the line under the form in French.
func TestHistoryInFrench(t *testing.T) {
	store := openSQLiteHistory(t)
	a := newHistoryApp(t, ada, store)
	fr := []string{"Accept-Language", "fr-FR"}
	a.save(map[string]string{"telephone": "+33 1 23 45 67 89"}, fr...)
	_, doc := a.get("", fr...)
	if got := text(doc.Find("#last-change")); !strings.HasPrefix(got, "Dernière modification à l’instant (") || !strings.Contains(got, " UTC) par Ada Admin.") ||
		!strings.Contains(got, "Voir l’historique des modifications") {
		t.Errorf("French line: %q", got)
	}
	// Noticed later than the save (a read sent before it would tell nothing new).
	noticed := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	if err := store.Observe(context.Background(), "tenant-a", support.Contact{Email: "x@contoso.example", Telephone: "1", Website: "w.example"},
		noticed); err != nil {
		t.Fatal(err)
	}
	frMonths := []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}
	when := fmt.Sprintf("%d %s %d, %s UTC", noticed.Day(), frMonths[noticed.Month()-1], noticed.Year(), noticed.Format("15:04:05"))
	_, doc = a.get("history", fr...)
	es := historyEntries(doc)
	if len(es) != 3 || es[0].When != when || !strings.HasPrefix(es[0].Summary, "Modifié en dehors de cette application") ||
		!strings.HasPrefix(es[1].Summary, "Enregistré dans cette application par Ada Admin") || !strings.Contains(es[1].Changes[0], "Avant : 4255550100 Après : +33 1 23 45 67 89") {
		t.Errorf("French history: %+v", es)
	}
	if got := text(doc.Find("h1")); got != "Historique des modifications des coordonnées du support" {
		t.Errorf("French heading %q", got)
	}
}

func TestTimesInWords(t *testing.T) {
	en, fr := i18n.Default().Get("en"), i18n.Default().Get("fr")
	at := time.Date(2026, 11, 28, 10, 42, 0, 0, time.FixedZone("CET", 3600))
	if got := fullTime(en, at); got != "28 Nov 2026, 09:42 UTC" {
		t.Errorf("English: %q", got)
	}
	if got := fullTime(fr, at.AddDate(0, -9, 0)); got != "28 févr. 2026, 09:42 UTC" {
		t.Errorf("French: %q", got)
	}
	for _, tt := range []struct {
		d      time.Duration
		en, fr string
	}{
		{30 * time.Second, "just now", "à l’instant"},
		{time.Minute, "1 minute ago", "il y a 1 minute"},
		{59 * time.Minute, "59 minutes ago", "il y a 59 minutes"},
		{2 * time.Hour, "2 hours ago", "il y a 2 heures"},
		{3 * 24 * time.Hour, "3 days ago", "il y a 3 jours"},
		{75 * 24 * time.Hour, "2 months ago", "il y a 2 mois"},
		{800 * 24 * time.Hour, "2 years ago", "il y a 2 ans"},
	} {
		if got := ago(en, at, at.Add(tt.d)); got != tt.en {
			t.Errorf("%v: %q, want %q", tt.d, got, tt.en)
		}
		if got := ago(fr, at, at.Add(tt.d)); got != tt.fr {
			t.Errorf("%v: %q, want %q", tt.d, got, tt.fr)
		}
	}
}

// Someone signed in without MFA sees the MFA explanation, not the history (Partner Center would
// not show them the values either).
func TestHistoryNeedsMFA(t *testing.T) {
	nomfa := ada
	nomfa.AMR = []string{"pwd"}
	a := newHistoryApp(t, nomfa, openSQLiteHistory(t))
	for _, p := range []string{"history", "history.csv", "history.json"} {
		if resp, doc := a.get(p); resp.StatusCode != http.StatusForbidden || !strings.Contains(text(doc.Find("main")), "multi-factor") {
			t.Errorf("%s without MFA: %d", p, resp.StatusCode)
		}
	}
}

// Each change says how its notification stands, in words, the worst delivery first: being
// sent, not delivered yet (retrying), delivered to every receiver, or given up with what to do.
func TestHistoryTellsHowNotificationsStand(t *testing.T) {
	store := openSQLiteHistory(t)
	store.NotifyTo([]string{"0:standard", "1:slack"})
	a := newHistoryApp(t, ada, store)
	notified := func() string {
		t.Helper()
		_, doc := a.get("history")
		entries := historyEntries(doc)
		if len(entries) == 0 {
			t.Fatal("no entries")
		}
		for _, e := range entries[1:] {
			if e.Summary == "First recorded" && e.Notified != "" {
				t.Errorf("the first record, which tells nobody, has a notifications line: %q", e.Notified)
			}
		}
		rest, _ := strings.CutPrefix(entries[0].Notified, "Notifications: ")
		return rest
	}
	due := func() []notify.Delivery {
		t.Helper()
		d, err := store.Due(context.Background(), time.Now().Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	a.save(map[string]string{"email": "first@contoso.example"})
	if got := notified(); got != "Being sent to the receivers your operators set up" {
		t.Fatalf("just saved: %q", got)
	}
	deliveries := due()
	if len(deliveries) != 2 {
		t.Fatalf("%d deliveries queued, want one per receiver", len(deliveries))
	}
	ctx, now := context.Background(), time.Now()
	if err := store.Delivered(ctx, deliveries[0].Key(), now); err != nil {
		t.Fatal(err)
	}
	if err := store.Retry(ctx, deliveries[1].Key(), 1, now.Add(10*time.Second), "503 Service Unavailable"); err != nil {
		t.Fatal(err)
	}
	if got := notified(); got != "Not delivered yet: a receiver did not take it, and the app keeps trying for a day" {
		t.Errorf("one receiver failing: %q", got)
	}
	if err := store.Delivered(ctx, deliveries[1].Key(), now); err != nil {
		t.Fatal(err)
	}
	if got := notified(); got != "Delivered to every receiver" {
		t.Errorf("both delivered: %q", got)
	}

	a.save(map[string]string{"email": "second@contoso.example"})
	for _, d := range due() {
		if err := store.GaveUp(ctx, d.Key(), now, "404 no_service"); err != nil {
			t.Fatal(err)
		}
	}
	if got := notified(); !strings.HasPrefix(got, "Not delivered: a receiver refused it") || !strings.Contains(got, "ask your operators") {
		t.Errorf("given up: %q", got)
	}
	_, doc := a.get("history", "Accept-Language", "fr")
	if !strings.Contains(text(doc.Find("#history")), "Non remises") {
		t.Errorf("the French page does not say the notification was not delivered")
	}
}
