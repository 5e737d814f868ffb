package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"pcsupport/internal/devidp"
)

// The change history in a real browser, as a person tries it: two sessions save, a change is made
// behind the app's back, the line under the form tells of it, the keyboard follows the link to the
// history, which lists exactly what happened, and the CSV export holds the same entries.
func TestBrowserHistoryStory(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	first := newChrome(t)
	browserSignIn(t, first, app, "admin")
	second := newBrowserContext(t, first)
	browserSignIn(t, second, app, "admin")

	must(t, chromedp.Do(first, replaceValue("telephone", "+44 20 7946 0101")))
	save(t, first, `#notice[role="status"]`)
	if line := cdp(t, first, chromedp.Text(chromedp.ID("last-change"))); !strings.HasPrefix(line, "Last changed just now") || !strings.Contains(line, "by Ada Admin.") {
		t.Errorf("line under the form after the save: %q", line)
	}
	full := cdp(t, first, chromedp.Evaluate[[2]string](`[document.querySelector("#last-change time").title, document.querySelector("#last-change .sr-only").textContent]`))
	if !strings.HasSuffix(full[0], " UTC") || full[1] != " ("+full[0]+")" {
		t.Errorf("the full time on hover %q, for screen readers %q", full[0], full[1])
	}

	must(t, chromedp.Do(second, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("website")), replaceValue("website", "www.contoso-help.example")))
	save(t, second, `#notice[role="status"]`)
	app.setProfile(t, devidp.TenantID, "desk@contoso-partner.example", "+44 20 7946 0101", "www.contoso-help.example")
	must(t, chromedp.Do(first, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("last-change"))))
	if line := cdp(t, first, chromedp.Text(chromedp.ID("last-change"))); !strings.HasPrefix(line, "Changed outside this app; noticed on ") {
		t.Errorf("line under the form after a change made elsewhere: %q", line)
	}

	tabTo(t, first, `a "See the change history"`)
	press(t, first, kb.Enter)
	must(t, chromedp.Do(first, chromedp.WaitVisible(chromedp.ID("history"))))
	screenshot(t, first, "history")
	entries := cdp(t, first, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#history > li")].map(li => li.innerText.replace(/\s+/g, " "))`))
	want := [][]string{
		{"Changed outside this app", "Email", "support@contoso-partner.example", "desk@contoso-partner.example"},
		{"Saved in this app by Ada Admin (ada.admin@contoso-partner.example)", "Website", "www.contoso-partner.example", "www.contoso-help.example", "Correlation id"},
		{"Saved in this app by Ada Admin (ada.admin@contoso-partner.example)", "Telephone", "4255550100", "+44 20 7946 0101", "Request id"},
		{"First recorded"},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries on the history page, want %d: %q", len(entries), len(want), entries)
	}
	for i, parts := range want {
		for _, p := range parts {
			if !strings.Contains(entries[i], p) {
				t.Errorf("entry %d %q lacks %q", i, entries[i], p)
			}
		}
	}

	// The export, fetched with the person's session as the link would download it.
	csv := cdp(t, first, chromedp.Evaluate[string](`fetch(document.querySelector('a[href$="history.csv"]').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(csv, "\ufeff")), "\n")
	kinds := []string{"outside", "saved", "saved", "baseline"}
	if len(lines) != 1+len(kinds) {
		t.Fatalf("CSV export:\n%s", csv)
	}
	for i, k := range kinds {
		if !strings.Contains(lines[i+1], ","+k+",") {
			t.Errorf("CSV line %d %q is not the page's entry %d (%s)", i+1, lines[i+1], i, k)
		}
	}
}

// historyStates checks the history page's states in lang: with entries, empty (a person of the
// other partner tenant who has opened nothing yet), and with the history store down (app down).
func historyStates(t *testing.T, ctx context.Context, app, down *devApp, s *stateChecker, lang string) {
	ada := newBrowserContext(t, ctx)
	must(t, chromedp.Do(ada, chromedp.Navigate(app.url+"lang?"+url.Values{"to": {lang}, "next": {"/history"}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("persona-admin")), chromedp.Click(chromedp.ID("persona-admin")),
		chromedp.WaitVisible(chromedp.ID("history"))))
	s.check(ada, "history")

	// Narrowed to the changes of the website made in this app, and a filter that cannot be read.
	must(t, chromedp.Do(ada, chromedp.Navigate(app.url+"history?"+url.Values{"field": {"website"}, "made": {"here"}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("history-filter"))))
	s.check(ada, "history-filtered")
	must(t, chromedp.Do(ada, chromedp.Navigate(app.url+"history?"+url.Values{"from": {"2026-12-31"}, "until": {"2026-01-01"}}.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#history-filter .filter-error"))))
	s.check(ada, "history-filter-error")

	// "Put these values back" on the oldest entry: the form with its values, marked changed.
	must(t, chromedp.Do(ada, chromedp.Navigate(app.url+"history"), chromedp.WaitVisible(chromedp.ID("history"))))
	must(t, chromedp.Do(ada, chromedp.Click(chromedp.CSS("#history > li:last-child a.restore")),
		chromedp.WaitVisible(chromedp.ID("restore"))))
	s.check(ada, "put-back")

	// The watch of outside changes, started: who started it, when, and the button that stops it.
	// The page asks before leaving the put-back form, whose values are marked changed.
	must(t, chromedp.Do(ada, chromedp.Navigate(app.url), chromedp.WaitVisible(chromedp.ID("watch-start")),
		chromedp.Click(chromedp.ID("watch-start")), chromedp.WaitVisible(chromedp.ID("watch-stop"))))
	s.check(ada, "watching")

	olga := newBrowserContext(t, ctx)
	must(t, chromedp.Do(olga, chromedp.Navigate(app.url+"lang?"+url.Values{"to": {lang}, "next": {"/history"}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("persona-other")), chromedp.Click(chromedp.ID("persona-other")),
		chromedp.WaitVisible(chromedp.ID("history-empty"))))
	s.check(olga, "history-empty")

	other := newBrowserContext(t, ctx)
	must(t, chromedp.Do(other, chromedp.Navigate(down.url+"lang?"+url.Values{"to": {lang}, "next": {"/history"}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("persona-admin")), chromedp.Click(chromedp.ID("persona-admin")),
		chromedp.WaitVisible(chromedp.CSS("#notice[role=alert]"))))
	s.check(other, "history-unavailable")
}
