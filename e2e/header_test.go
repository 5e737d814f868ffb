package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pcsupport/internal/devidp"
)

// headerLayout is what a person sees of the header: how far down the page's heading starts, and
// in how many rows the header's items sit.
type headerLayout struct {
	HeadingTop float64 `json:"headingTop"` // px from the top of the page to the main heading
	Rows       int     `json:"rows"`       // rows of the header's bar (the dev banner below it not counted)
}

// headerLayoutJS counts the bar's rows as a person would: items whose boxes overlap vertically
// sit in one row (a two-line item beside one-line ones is one row, not two).
const headerLayoutJS = `(() => {
	const bar = document.querySelector("header > div");
	const items = [...bar.querySelectorAll("*")].filter(e => {
		const parent = getComputedStyle(e.parentElement).display, own = getComputedStyle(e).display;
		const r = e.getBoundingClientRect();
		return parent.endsWith("flex") && !own.endsWith("flex") && r.width > 1 && r.height > 1;
	}).map(e => e.getBoundingClientRect()).sort((a, b) => a.top - b.top);
	let rows = 0, bottom = -Infinity;
	for (const r of items) {
		if (r.top >= bottom - 1) rows++;
		bottom = Math.max(bottom, r.bottom);
	}
	return {headingTop: document.querySelector("main h1").getBoundingClientRect().top, rows};
})()`

// The header leaves room for the page, in both languages, once it names the company: two rows
// at 360 and at 1440 px, the heading at most 150 px down (before: 324 px in English and 352 px
// in French at 360 px, 232 px and three rows in French at 1440 px; after: 120 to 136 px). The
// tenant id is one click away, in the disclosure that names the company.
func TestBrowserHeaderIsCompact(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	limits := map[int64]struct {
		headingTop float64
		rows       int
	}{360: {150, 2}, 1440: {150, 2}}
	for _, lang := range []string{"en", "fr"} {
		tab := newBrowserContext(t, ctx)
		must(t, chromedp.Do(tab, chromedp.Navigate(app.url+"lang?"+url.Values{"to": {lang}, "next": {"/"}}.Encode()),
			chromedp.WaitVisible(chromedp.ID("persona-admin")), chromedp.Click(chromedp.ID("persona-admin")),
			chromedp.WaitVisible(chromedp.ID("telephone"))))
		waitForCompanyName(t, tab, "Contoso Partner")
		for _, w := range viewportWidths {
			must(t, chromedp.Do(tab, chromedp.EmulateViewport(w, 800)))
			got := cdp(t, tab, chromedp.Evaluate[headerLayout](headerLayoutJS))
			t.Logf("%s at %d px: heading at %.0f px, header in %d rows", lang, w, got.HeadingTop, got.Rows)
			limit := limits[w]
			if got.HeadingTop > limit.headingTop {
				t.Errorf("%s at %d px: the heading starts %.0f px down, want at most %.0f", lang, w, got.HeadingTop, limit.headingTop)
			}
			if got.Rows > limit.rows {
				t.Errorf("%s at %d px: the header takes %d rows, want at most %d", lang, w, got.Rows, limit.rows)
			}
			screenshot(t, tab, fmt.Sprintf("header-%s-%d", lang, w))
		}
		must(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("header details summary"))))
		if shown := cdp(t, tab, chromedp.Evaluate[string](`document.querySelector("header details").innerText`)); !strings.Contains(shown, devidp.TenantID) {
			t.Errorf("%s: the open disclosure shows %q, want the tenant id", lang, shown)
		}
		screenshot(t, tab, fmt.Sprintf("header-%s-%d-open", lang, viewportWidths[len(viewportWidths)-1]))
	}
}

// waitForCompanyName reloads the page until its header names the company: the app asks Partner
// Center for it in the background after the first page view.
func waitForCompanyName(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		must(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("telephone"))))
		summary := cdp(t, ctx, chromedp.Evaluate[string](`document.querySelector("header details summary").innerText`))
		if strings.Contains(summary, name) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the header still says %q, want %s", summary, name)
		}
	}
}
