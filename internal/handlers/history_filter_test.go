package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/history"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

var (
	adaPerson = history.Person{ObjectID: "oid-ada", Name: "Ada Admin", Username: "ada@contoso.example"}
	bobPerson = history.Person{ObjectID: "oid-bob", Name: "Bob Builder", Username: "bob@contoso.example"}
	// filterT0 is when Contoso's history starts in the filter tests.
	filterT0 = time.Date(2026, 11, 28, 10, 42, 5, 0, time.UTC)
)

// filteredHistory is Contoso's history of four entries: the values first recorded (28 Nov), Ada's
// telephone change (28 Nov), an email change made outside (29 Nov), Bob's website change (30 Nov).
func filteredHistory(t *testing.T) (*history.SQLiteStore, []support.Contact) {
	t.Helper()
	store := openSQLiteHistory(t)
	ctx := context.Background()
	v0 := support.Contact{Email: "support@contoso.example", Telephone: "4255550100", Website: "www.contoso.example"}
	v1 := v0.With(support.Telephone, "+1 425 555 0111")
	v2 := v1.With(support.Email, "desk@contoso.example")
	v3 := v2.With(support.Website, "help.contoso.example")
	if err := store.Observe(ctx, "tenant-a", v0, filterT0); err != nil {
		t.Fatal(err)
	}
	saveBy := func(p history.Person, before, after support.Contact, at time.Time) {
		t.Helper()
		err := store.RecordSave(ctx, history.Save{TenantID: "tenant-a", By: p, Before: before, After: after,
			CorrelationID: "corr-" + p.ObjectID, RequestID: "req-" + p.ObjectID, Started: at, At: at.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
	}
	saveBy(adaPerson, v0, v1, filterT0.Add(time.Hour))
	if err := store.Observe(ctx, "tenant-a", v2, time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	saveBy(bobPerson, v2, v3, time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	return store, []support.Contact{v0, v1, v2, v3}
}

// summaries are the entries' first lines, newest first.
func summaries(doc *goquery.Document) []string {
	var out []string
	for _, e := range historyEntries(doc) {
		out = append(out, e.Summary)
	}
	return out
}

const (
	adaSaved   = "Saved in this app by Ada Admin (ada@contoso.example)"
	bobSaved   = "Saved in this app by Bob Builder (bob@contoso.example)"
	outsideSum = "Changed outside this app (in the Partner Center portal, PowerShell or another tool); noticed by this app at this time."
	firstSum   = "First recorded: the values when this app first read them. This is the starting point, not a change."
)

// The history narrows to a field changed, where the change was made, who saved it and a range of
// days, by a GET form that keeps what was chosen; the count, the page links and the download
// links follow the filter.
func TestHistoryFilters(t *testing.T) {
	store, _ := filteredHistory(t)
	a := newHistoryApp(t, ada, store)

	_, doc := a.get("history")
	if got := summaries(doc); len(got) != 4 || text(doc.Find("#history-count")) != "4 entries" {
		t.Fatalf("unfiltered: %q, count %q", got, text(doc.Find("#history-count")))
	}
	form := doc.Find("form#history-filter")
	if form.AttrOr("method", "") != "get" || form.AttrOr("action", "") != "/history" {
		t.Errorf("the filter is not a GET form to the history: %v", form.Nodes)
	}
	var people []string
	form.Find(`select[name="by"] option`).Each(func(_ int, o *goquery.Selection) { people = append(people, o.AttrOr("value", "")+"="+text(o)) })
	if want := []string{"=Anyone", "oid-ada=Ada Admin (ada@contoso.example)", "oid-bob=Bob Builder (bob@contoso.example)"}; strings.Join(people, "|") != strings.Join(want, "|") &&
		strings.Join(people, "|") != strings.Join([]string{want[0], want[2], want[1]}, "|") {
		t.Errorf("people to choose from: %q", people)
	}

	for _, c := range []struct {
		query string
		want  []string
		count string
	}{
		{"field=telephone", []string{adaSaved}, "1 entry"},
		{"field=email", []string{outsideSum}, "1 entry"},
		{"made=here", []string{bobSaved, adaSaved}, "2 entries"},
		{"made=outside", []string{outsideSum}, "1 entry"},
		{"by=oid-bob", []string{bobSaved}, "1 entry"},
		{"from=2026-11-29", []string{bobSaved, outsideSum}, "2 entries"},
		{"until=2026-11-28", []string{adaSaved, firstSum}, "2 entries"},
		{"from=2026-11-29&until=2026-11-29", []string{outsideSum}, "1 entry"},
		{"field=website&made=here&by=oid-bob&from=2026-11-30&until=2026-11-30", []string{bobSaved}, "1 entry"},
	} {
		_, doc := a.get("history?" + c.query)
		if got := summaries(doc); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %q, want %q", c.query, got, c.want)
		}
		if got := text(doc.Find("#history-count")); got != c.count {
			t.Errorf("%s: count %q, want %q", c.query, got, c.count)
		}
		q, _ := url.ParseQuery(c.query)
		for name := range q {
			sel := fmt.Sprintf(`#history-filter [name=%q]`, name)
			got := doc.Find(sel).AttrOr("value", "")
			if s := doc.Find(sel + " option[selected]"); s.Length() > 0 {
				got = s.AttrOr("value", "")
			}
			if got != q.Get(name) {
				t.Errorf("%s: the form shows %s=%q", c.query, name, got)
			}
		}
		for _, ext := range []string{"csv", "json"} {
			href := doc.Find(fmt.Sprintf(`a[href^="/history.%s"]`, ext)).AttrOr("href", "")
			if u, err := url.Parse(href); err != nil || u.Query().Encode() != q.Encode() {
				t.Errorf("%s: the %s link is %q", c.query, ext, href)
			}
		}
		if doc.Find(`#history-filter a`).AttrOr("href", "") != "/history" {
			t.Errorf("%s: no link to clear the filters", c.query)
		}
	}

	// The CSV of a filter holds what the page shows, with the fields each entry changed.
	rows := downloadCSV(t, a, "history.csv?made=here")
	if len(rows) != 3 || rows[1][2] != "Bob Builder" || rows[2][2] != "Ada Admin" || rows[0][12] != "changed_fields" ||
		rows[1][12] != "website" || rows[2][12] != "telephone" {
		t.Errorf("CSV of the saves made here: %q", rows)
	}
	if rows := downloadCSV(t, a, "history.csv"); len(rows) != 5 || rows[3][12] != "telephone" || rows[4][12] != "" {
		t.Errorf("CSV of the whole history: %q", rows)
	}
}

func downloadCSV(t *testing.T, a *historyApp, path string) [][]string {
	t.Helper()
	resp, err := a.client.Get(a.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The pages of a filtered history keep the filter, both ways.
func TestHistoryFilteredPagesKeepTheFilter(t *testing.T) {
	store, v := filteredHistory(t)
	a := newHistoryApp(t, ada, store)
	c := v[3]
	for i := range 60 { // 60 more changes: the email and the website in turn
		if i%2 == 0 {
			c = c.With(support.Email, fmt.Sprintf("e%02d@contoso.example", i))
		} else {
			c = c.With(support.Website, fmt.Sprintf("w%02d.contoso.example", i))
		}
		if err := store.Observe(context.Background(), "tenant-a", c, time.Date(2026, 12, 1, 0, i, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	_, doc := a.get("history?field=email")
	if n := len(historyEntries(doc)); n != 31 || text(doc.Find("#history-count")) != "31 entries" {
		t.Fatalf("%d email changes on one page, count %q; want 31", n, text(doc.Find("#history-count")))
	}
	_, doc = a.get("history?field=website")
	if n := len(historyEntries(doc)); n != 31 {
		t.Fatalf("%d website changes", n)
	}
	_, doc = a.get("history?made=outside")
	older := doc.Find(`nav a[rel="next"]`).AttrOr("href", "")
	if !strings.HasPrefix(older, "/history?made=outside&before=") || len(historyEntries(doc)) != 50 || text(doc.Find("#history-count")) != "61 entries" {
		t.Fatalf("older link %q, %d entries, count %q", older, len(historyEntries(doc)), text(doc.Find("#history-count")))
	}
	_, doc = a.get(strings.TrimPrefix(older, "/"))
	if es := historyEntries(doc); len(es) != 11 || strings.Contains(strings.Join(summaries(doc), "|"), "Saved in this app") {
		t.Errorf("the older page of the outside changes: %d entries %q", len(es), summaries(doc))
	}
	newer := doc.Find(`nav a[rel="prev"]`).AttrOr("href", "")
	if !strings.HasPrefix(newer, "/history?made=outside&after=") {
		t.Errorf("newer link %q", newer)
	}
	if doc.Find(`a[href="/history.csv?made=outside"]`).Length() != 1 {
		t.Error("the older page's CSV link lost the filter")
	}
}

// A filter that keeps nothing says so, with a link to clear the filters, and offers no
// download; an empty history offers none either.
func TestHistoryFilterKeepingNothing(t *testing.T) {
	store, _ := filteredHistory(t)
	a := newHistoryApp(t, ada, store)
	resp, doc := a.get("history?field=email&made=here")
	if resp.StatusCode != http.StatusOK || len(historyEntries(doc)) != 0 {
		t.Fatalf("%d, %d entries", resp.StatusCode, len(historyEntries(doc)))
	}
	if got := text(doc.Find("#history-empty")); got != "No entry matches these filters. Clear the filters" ||
		doc.Find(`#history-empty a`).AttrOr("href", "") != "/history" {
		t.Errorf("empty result: %q", got)
	}
	if doc.Find(`a[href*="history.csv"], a[href*="history.json"]`).Length() != 0 || doc.Find("#history-count").Length() != 0 {
		t.Error("downloads or a count offered for nothing")
	}
	if doc.Find(`#history-filter select[name="made"] option[value="here"][selected]`).Length() != 1 {
		t.Error("the filter lost what was chosen")
	}

	fabrikam := newHistoryApp(t, olga, store)
	_, doc = fabrikam.get("history")
	if doc.Find(`a[href*="history.csv"], a[href*="history.json"]`).Length() != 0 || !strings.Contains(text(doc.Find("#history-empty")), "Nothing has been recorded yet") {
		t.Errorf("an empty history: %q, downloads %d", text(doc.Find("#history-empty")), doc.Find(`a[href*="history.csv"]`).Length())
	}
}

// What the filter cannot use is said beside it, in the person's language, and what was typed
// stays; never a server error, for the page or a download.
func TestHistoryFilterBadInput(t *testing.T) {
	store, _ := filteredHistory(t)
	a := newHistoryApp(t, ada, store)
	for _, c := range []struct {
		query, param, says string
		header             []string
	}{
		{"from=2026-13-45&until=2026-12-01", "from", "Give a day as year-month-day, for example 2026-12-05.", nil},
		{"from=yesterday", "from", "Give a day as year-month-day", nil},
		{"until=31/12/2026", "until", "Give a day as year-month-day", nil},
		{"from=2026-12-05&until=2026-12-01", "until", "This day is before the “From” day", nil},
		{"field=fax", "field", "Choose email, telephone or website from the list.", nil},
		{"made=elsewhere", "made", "Choose “In this app” or “Outside this app” from the list.", nil},
		{"from=2026-12-05&until=2026-12-01", "until", "Ce jour précède le jour «\u00a0Du\u00a0»\u00a0: choisissez", []string{"Accept-Language", "fr"}},
	} {
		resp, doc := a.get("history?"+c.query, c.header...)
		if resp.StatusCode != http.StatusBadRequest || len(historyEntries(doc)) != 0 {
			t.Errorf("%s: %d, %d entries", c.query, resp.StatusCode, len(historyEntries(doc)))
		}
		problem := doc.Find("#filter-" + c.param + "-error")
		if !strings.Contains(problem.Text(), c.says) {
			t.Errorf("%s: beside %s: %q, want %q", c.query, c.param, text(problem), c.says)
		}
		field := doc.Find("#filter-" + c.param)
		if field.AttrOr("aria-invalid", "") != "true" || field.AttrOr("aria-describedby", "") != "filter-"+c.param+"-error" {
			t.Errorf("%s: the field is not marked invalid", c.query)
		}
		q, _ := url.ParseQuery(c.query)
		for name := range q {
			if v := doc.Find(`input#filter-`+name).AttrOr("value", ""); doc.Find(`input#filter-`+name).Length() == 1 && v != q.Get(name) {
				t.Errorf("%s: %s shows %q, not what was typed", c.query, name, v)
			}
		}
		if doc.Find(`a[href*="history.csv"]`).Length() != 0 {
			t.Errorf("%s: a download offered", c.query)
		}
	}
	if doc := doc2(a, "history?field=fax"); doc.Find(`select#filter-field option[value="fax"]`).Length() != 0 {
		t.Error("an unknown field became a choice")
	}
	for _, path := range []string{"history.csv?from=2026-02-30", "history.json?field=fax", "history.csv?from=2026-12-05&until=2026-12-01"} {
		resp, err := a.client.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "This download link has a filter the app cannot read.") {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

// Times are to the second, in the person's time zone when their browser told it (and the days of
// the filter too), else in UTC, saying so; the machine-readable time stays UTC.
func TestHistoryTimesInThePersonsZone(t *testing.T) {
	store, _ := filteredHistory(t)
	a := newHistoryApp(t, ada, store)
	_, doc := a.get("history")
	es := historyEntries(doc)
	if first := es[len(es)-1]; first.When != "28 Nov 2026, 10:42:05 UTC" || first.Datetime != "2026-11-28T10:42:05.000Z" ||
		!strings.Contains(text(doc.Find("#history-zone")), "Times are in UTC") {
		t.Errorf("without a zone: %q %q, %q", first.When, first.Datetime, text(doc.Find("#history-zone")))
	}
	u, _ := url.Parse(a.url)
	a.client.Jar.SetCookies(u, []*http.Cookie{{Name: timeZoneCookie, Value: "Asia/Tokyo", Path: "/"}})
	_, doc = a.get("history")
	es = historyEntries(doc)
	if first := es[len(es)-1]; first.When != "28 Nov 2026, 19:42:05 JST" || first.Datetime != "2026-11-28T10:42:05.000Z" ||
		text(doc.Find("#history-zone")) != "Times are in your time zone (Asia/Tokyo), to the second." {
		t.Errorf("in Tokyo: %q %q, %q", first.When, first.Datetime, text(doc.Find("#history-zone")))
	}
	// Ada's save, at 11:42:06 UTC on the 28th, is on the 28th in Tokyo too; the outside change at
	// 09:00 UTC on the 29th is 18:00 there; Bob's at 12:00:01 UTC on the 30th is 21:00 there.
	if got := summaries(doc2(a, "history?from=2026-11-29&until=2026-11-29")); strings.Join(got, "|") != outsideSum {
		t.Errorf("the 29th in Tokyo: %q", got)
	}
	a.client.Jar.SetCookies(u, []*http.Cookie{{Name: timeZoneCookie, Value: "Pacific/Kiritimati", Path: "/"}}) // UTC+14
	// In Kiritimati the outside change is at 23:00 on the 29th, Bob's save at 02:00 on 1 Dec.
	if got := summaries(doc2(a, "history?from=2026-12-01")); strings.Join(got, "|") != bobSaved {
		t.Errorf("from 1 Dec in Kiritimati: %q", got)
	}
}

func doc2(a *historyApp, path string) *goquery.Document {
	a.t.Helper()
	_, d := a.get(path)
	return d
}

// The exports are named after the company when Partner Center has told its name, in ASCII.
func TestHistoryExportNamedAfterTheCompany(t *testing.T) {
	store, _ := filteredHistory(t)
	orgs := &scriptedOrganizations{profile: pcclient.OrganizationProfile{CompanyName: "Société Générale & Co. (Paris)"}}
	a := newHistoryApp(t, ada, store, func(o *Options) { o.Organizations = orgs })
	name := func() string {
		resp, err := a.client.Get(a.url + "history.csv")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Content-Disposition")
	}
	today := time.Now().UTC().Format("2006-01-02")
	if got := name(); got != `attachment; filename="support-profile-history-`+today+`.csv"` {
		t.Errorf("before the company is known: %q", got)
	}
	a.get("")
	a.tb.h.organizations.wait()
	if got := name(); got != `attachment; filename="societe-generale-co-paris-support-profile-history-`+today+`.csv"` {
		t.Errorf("once the company is known: %q", got)
	}
}

func TestExportFileName(t *testing.T) {
	day := time.Date(2026, 12, 5, 23, 30, 0, 0, time.FixedZone("X", -3600))
	for company, want := range map[string]string{
		"Contoso":                    "contoso-support-profile-history-2026-12-06.csv",
		"  Fabrikam, Inc.  ":         "fabrikam-inc-support-profile-history-2026-12-06.csv",
		"Ærø Ölçer Ñandú":            "aero-olcer-nandu-support-profile-history-2026-12-06.csv",
		"北京公司":                       "support-profile-history-2026-12-06.csv",
		"":                           "support-profile-history-2026-12-06.csv",
		`"; filename=evil.exe`:       "filename-evil-exe-support-profile-history-2026-12-06.csv",
		"../../etc/passwd\r\nX-A: b": "etc-passwd-x-a-b-support-profile-history-2026-12-06.csv",
	} {
		if got := exportFileName(company, day, "csv"); got != want {
			t.Errorf("%q: %q, want %q", company, got, want)
		}
	}
	long := exportFileName(strings.Repeat("abc ", 100), day, "json")
	if len(long) > 100 || !strings.HasSuffix(long, "-support-profile-history-2026-12-06.json") || strings.Contains(long, "--") {
		t.Errorf("a long name: %q", long)
	}
}
