package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pcsupport/internal/pcemu"
)

// axePath is axe-core as npm installs it from package.json (scripts/build-assets, CI), under the
// module's root.
const axePath = "node_modules/axe-core/axe.min.js"

// axeTags are the rules the pages must pass: WCAG 2.0, 2.1 and 2.2, levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

var readAxe = sync.OnceValues(func() ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(root, axePath))
})

// axeSource is axe-core's script. Without it (node_modules not installed) the test is skipped,
// except where PCS_REQUIRE_BROWSER=1 (CI, which installs it) makes that a failure.
func axeSource(t *testing.T) string {
	t.Helper()
	src, err := readAxe()
	if err != nil {
		if os.Getenv("PCS_REQUIRE_BROWSER") == "1" {
			t.Fatalf("axe-core is required (PCS_REQUIRE_BROWSER=1): %v (run npm run build)", err)
		}
		t.Skipf("accessibility test skipped: no axe-core at %s (npm run build installs it)", axePath)
	}
	return string(src)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  json.RawMessage `json:"target"`
		Summary string          `json:"failureSummary"`
		HTML    string          `json:"html"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %s %s\n        %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n        "))
	}
	return b.String()
}

// axeRun runs axe-core on the page as it is now. Its source is evaluated through DevTools, where
// the page's Content-Security-Policy does not apply; it stays in the page until the next load.
func axeRun(t *testing.T, ctx context.Context, src string) []axeViolation {
	t.Helper()
	if !cdp(t, ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`)) {
		cdp(t, ctx, chromedp.Evaluate[chromedp.Void](src))
	}
	tags, _ := json.Marshal(axeTags)
	return cdp(t, ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary, html: n.html}))})))`, chromedp.EvalAwaitPromise))
}

// viewportWidths are the narrowest phone and a common desktop width.
var viewportWidths = []int64{360, 1440}

// stateChecker checks a state of the app at every width: axe-core finds no violation, nothing
// scrolls sideways, and a screenshot is kept when PCS_SCREENSHOT_DIR is set.
type stateChecker struct {
	t      *testing.T
	axe    string
	prefix string // of screenshot names and messages, e.g. "fr"
	seen   map[string]bool
}

func (s *stateChecker) check(ctx context.Context, state string) {
	s.t.Helper()
	s.run(ctx, state, true)
}

// checkDevTool checks a development tool's page (the emulator's): axe-core only, since its wide
// tables are not meant for phones.
func (s *stateChecker) checkDevTool(ctx context.Context, state string) {
	s.t.Helper()
	s.run(ctx, state, false)
}

func (s *stateChecker) run(ctx context.Context, state string, sizes bool) {
	t := s.t
	t.Helper()
	name := s.prefix + "-" + state
	if s.seen[name] {
		t.Fatalf("state %s checked twice", name)
	}
	s.seen[name] = true
	for _, w := range viewportWidths {
		must(t, chromedp.Do(ctx, chromedp.EmulateViewport(w, 800)))
		for _, v := range axeRun(t, ctx, s.axe) {
			t.Errorf("%s at %d px: axe: %s", name, w, v)
		}
		if sizes {
			width := cdp(t, ctx, chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
			if width[0] > width[1] {
				t.Errorf("%s at %d px scrolls sideways: content %d px wide in %d px", name, w, width[0], width[1])
			}
		}
		screenshot(t, ctx, fmt.Sprintf("%s-%d", name, w))
	}
}

// fieldsMarked checks that the form's fields have visible labels, and that exactly the named ones
// are marked invalid and described by their error message.
func fieldsMarked(t *testing.T, ctx context.Context, invalid ...string) {
	t.Helper()
	type field struct {
		ID, Label, Invalid, DescribedBy, Error string
	}
	got := cdp(t, ctx, chromedp.Evaluate[[]field](`[...document.querySelectorAll("#profile form input:not([type=hidden])")].map(i => ({
		ID: i.id, Label: i.labels.length ? i.labels[0].innerText.trim() : "", Invalid: i.getAttribute("aria-invalid") || "",
		DescribedBy: i.getAttribute("aria-describedby") || "",
		Error: (document.getElementById(i.id + "-error") || {innerText: ""}).innerText.trim()}))`))
	if len(got) != 3 {
		t.Fatalf("%d fields in the form: %+v", len(got), got)
	}
	for _, f := range got {
		if f.Label == "" {
			t.Errorf("field %s has no visible label", f.ID)
		}
		want := slices.Contains(invalid, f.ID)
		if marked := f.Invalid == "true" && strings.Contains(f.DescribedBy, f.ID+"-error") && f.Error != ""; marked != want {
			t.Errorf("field %s: marked invalid %v, want %v: %+v", f.ID, marked, want, f)
		}
		if !strings.Contains(f.DescribedBy, f.ID+"-hint") {
			t.Errorf("field %s is not described by its hint: %+v", f.ID, f)
		}
	}
}

// setValue puts a value in a field at once (typing it key by key is tested elsewhere and slow).
func setValue(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.ID(id), value)
}

// newBrowserContext opens a tab in a browser context of its own (its own cookies: another
// person), in the browser of ctx, which must have run. The tab first loads a blank page, so that
// the first real page is not raced by the events of the tab's initial document.
func newBrowserContext(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	must(t, chromedp.Do(tab, chromedp.Navigate("about:blank")))
	answerLeaving(t, tab)
	return tab
}

// focused describes the element that has keyboard focus, e.g. "input#email".
func focused(t *testing.T, ctx context.Context) string {
	t.Helper()
	return cdp(t, ctx, chromedp.Evaluate[string](`(e => e ? e.localName + (e.id ? "#" + e.id : "") : "")(document.activeElement)`))
}

// waitFocus waits for focus to reach want, which a page load's autofocus does only once the
// browser next renders, and returns where focus is.
func waitFocus(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := focused(t, ctx)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// save submits the form with a click and waits until htmx has swapped in and settled the
// outcome (autofocus is applied when it settles).
func save(t *testing.T, ctx context.Context, outcome string) {
	t.Helper()
	expectSwap(t, ctx)
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`))))
	waitSettled(t, ctx)
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(outcome))))
	// The page title says what happened, as it would after a full page load.
	title := cdp(t, ctx, chromedp.Evaluate[[2]string](`[document.title, document.querySelector("#notice > p").innerText]`))
	if !strings.HasPrefix(title[0], title[1]+" · ") {
		t.Errorf("page title %q does not start with the outcome %q", title[0], title[1])
	}
}

// expectSwap must come before the action whose response htmx swaps in; waitSettled then waits
// for that swap to settle.
func expectSwap(t *testing.T, ctx context.Context) {
	t.Helper()
	cdp(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__settled = new Promise(r => document.addEventListener("htmx:afterSettle", () => r(true), {once: true}))`))
}

func waitSettled(t *testing.T, ctx context.Context) {
	t.Helper()
	cdp(t, ctx, chromedp.Evaluate[bool](`window.__settled`, chromedp.EvalAwaitPromise))
}

// Every state of the app, in English and in French, at 360 and 1440 px: no axe-core violation
// (WCAG 2.2 A and AA), no sideways scrolling, a screenshot of each; live regions and focus after
// each outcome. Each language has apps and a browser of its own (the faults it queues are its
// own), so the two run at the same time.
func TestBrowserEveryStateAccessible(t *testing.T) {
	t.Parallel()
	src := axeSource(t)
	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			app := startApp(t)
			historyDown := startApp(t, "--database-url", "postgres://pcs@127.0.0.1:1/history?connect_timeout=1&sslmode=disable")
			// Every state at two widths, each through axe-core: some 80 s for a language on a
			// busy two-core machine, more than newChrome's 90 s leave room for.
			ctx := newChromeWithin(t, 180*time.Second)
			must(t, chromedp.Do(ctx, chromedp.Navigate("about:blank"))) // the browser runs: contexts can be added
			tab := newBrowserContext(t, ctx)
			s := &stateChecker{t: t, axe: src, prefix: lang, seen: map[string]bool{}}
			everyState(t, tab, app, s, lang)
			historyStates(t, tab, app, historyDown, s, lang)
		})
	}
}

func everyState(t *testing.T, ctx context.Context, app *devApp, s *stateChecker, lang string) {
	// Signed out, in the chosen language (the switch is remembered in a cookie).
	must(t, chromedp.Do(ctx, chromedp.Navigate(app.url+"lang?"+url.Values{"to": {lang}, "next": {"/auth/signed-out"}}.Encode()),
		chromedp.WaitVisible(chromedp.CSS("main h1"))))
	if got := cdp(t, ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); got != lang {
		t.Fatalf("page language %q, want %q", got, lang)
	}
	s.check(ctx, "signed-out")

	// The dev sign-in page, and the sign-in error when the person cancels there.
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("main a[href*='auth/signin']")), chromedp.WaitVisible(chromedp.ID("cancel"))))
	s.check(ctx, "dev-sign-in")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("cancel")), chromedp.WaitVisible(chromedp.CSS("#notice[role=alert]"))))
	s.check(ctx, "sign-in-error")

	// Signed in: the form.
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("main a[href*='auth/signin']")), chromedp.WaitVisible(chromedp.ID("persona-admin")),
		chromedp.Click(chromedp.ID("persona-admin")), chromedp.WaitVisible(chromedp.ID("telephone"))))
	s.check(ctx, "form")

	// The account disclosure open: the ids support asks for.
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("header details summary"))))
	s.check(ctx, "account-open")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("header details summary"))))

	// Field errors: focus on the first field in error.
	must(t, chromedp.Do(ctx, setValue("email", "support at contoso"), setValue("website", "not a site")))
	save(t, ctx, "#email-error")
	if f := focused(t, ctx); f != "input#email" {
		t.Errorf("after field errors focus is on %q, want the first field in error", f)
	}
	fieldsMarked(t, ctx, "email", "website")
	s.check(ctx, "field-error")

	// Saved: focus on the message, announced politely, listing what changed.
	must(t, chromedp.Do(ctx, setValue("email", "help-"+lang+"@contoso-partner.example"),
		setValue("website", "https://support.contoso-partner.example/"+lang+"/a/rather/long/path/that/does/not/break/easily")))
	save(t, ctx, "#notice[role=status] ul")
	if f := focused(t, ctx); f != "div#notice" {
		t.Errorf("after a save focus is on %q, want the message", f)
	}
	s.check(ctx, "saved")

	// Nothing changed.
	save(t, ctx, "#notice[role=status]")
	if f := focused(t, ctx); f != "div#notice" {
		t.Errorf("after saving nothing focus is on %q, want the message", f)
	}
	s.check(ctx, "unchanged")

	// A number as dialled in the company's country (Contoso's: the United States), offered in
	// international form before it is saved; Save stores it.
	must(t, chromedp.Do(ctx, setValue("telephone", "425 555 0123")))
	save(t, ctx, "#telephone-suggestion")
	if f := focused(t, ctx); f != "input#telephone" {
		t.Errorf("after the offer focus is on %q, want the telephone", f)
	}
	s.check(ctx, "telephone-offer")
	save(t, ctx, "#notice[role=status]")

	// A request refused before it reaches the form's handler (here a body over the size limit,
	// which the fields' maxlength keeps people from sending): an alert above the form, which
	// stays as it is.
	must(t, chromedp.Do(ctx, setValue("website", strings.Repeat("x", 70<<10))))
	expectSwap(t, ctx)
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`))))
	waitSettled(t, ctx)
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#alerts #alert[role=alert]"))))
	if f := focused(t, ctx); f != "div#alert" {
		t.Errorf("after a refused request focus is on %q, want the alert", f)
	}
	if cdp(t, ctx, chromedp.Evaluate[bool](`document.getElementById("notice") !== null`)) {
		t.Error("the form's earlier notice is still shown beside the alert")
	}
	if title := cdp(t, ctx, chromedp.Evaluate[[2]string](`[document.title, document.querySelector("#alert > p").innerText]`)); !strings.HasPrefix(title[0], title[1]+" · ") {
		t.Errorf("page title %q does not start with the alert %q", title[0], title[1])
	}
	s.check(ctx, "refused-request")
	// The next outcome replaces the alert.
	must(t, chromedp.Do(ctx, setValue("website", "www.contoso-partner.example")))
	save(t, ctx, "#notice")
	if cdp(t, ctx, chromedp.Evaluate[bool](`document.querySelector("#alerts").children.length > 0`)) {
		t.Error("the alert stays after the next save")
	}
	must(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("telephone"))))

	// Each kind of Partner Center failure: explained in an alert that takes focus, values kept.
	put, get := http.MethodPut, http.MethodGet
	for i, f := range []struct {
		state string
		fault pcemu.Fault
	}{
		{"fail-403-role", pcemu.Fault{Method: put, Status: 403, Code: "900150"}},
		{"fail-503-unavailable", pcemu.Fault{Method: put, Status: 503, Count: 3}},
		{"fail-401-mfa", pcemu.Fault{Method: put, Status: 401, Code: "10001"}},
		{"fail-401-sign-in-again", pcemu.Fault{Method: put, Status: 401, Code: "400", Count: 2}},
		{"fail-bad-response", pcemu.Fault{Method: get, Status: 200, Body: pcemu.BodyMalformed}},
		{"fail-400-field", pcemu.Fault{Method: put, Status: 400, Code: "3000", Description: "The property 'Telephone' is invalid."}},
		// Last: Save stays off until Partner Center’s wait is over (here a short one, but longer
		// than the app waits out itself).
		{"fail-429-wait", pcemu.Fault{Method: put, Status: 429, RetryAfter: 8 * time.Second}},
	} {
		app.injectFaults(t, f.fault)
		must(t, chromedp.Do(ctx, setValue("telephone", fmt.Sprintf("+33 1 23 45 67 %02d", i))))
		save(t, ctx, "#notice[role=alert] dl")
		want := "div#notice"
		if f.state == "fail-400-field" {
			want = "input#telephone"
		}
		if got := focused(t, ctx); got != want {
			t.Errorf("%s: focus is on %q, want %q", f.state, got, want)
		}
		if f.state == "fail-400-field" {
			fieldsMarked(t, ctx, "telephone")
		} else {
			fieldsMarked(t, ctx)
		}
		s.check(ctx, f.state)
	}
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#profile button[type="submit"]:not([disabled])`))))

	// A colleague saves in another browser while this form is open: the conflict, field by field.
	other := newBrowserContext(t, ctx)
	must(t, chromedp.Do(other, chromedp.Navigate(app.url+"lang?"+url.Values{"to": {lang}, "next": {"/"}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("persona-admin")), chromedp.Click(chromedp.ID("persona-admin")), chromedp.WaitVisible(chromedp.ID("telephone")),
		setValue("website", "https://www.contoso-partner.example/"+lang+"/support/contact-us/an-even-longer-path-segment-without-any-break")))
	save(t, other, "#notice[role=status] ul")
	must(t, chromedp.Do(ctx, setValue("email", "a.very.long.support.address.for.customers-"+lang+"@contoso-partner.example")))
	save(t, ctx, "#profile table")
	if got := focused(t, ctx); got != "div#notice" {
		t.Errorf("conflict: focus is on %q, want the message", got)
	}
	s.check(ctx, "conflict")

	// The page cannot load the profile: an explanation and a way to try again, no form. (A
	// refusal: a 503 would be retried, which only takes longer.)
	app.injectFaults(t, pcemu.Fault{Method: get, Status: 403, Code: "900150"})
	must(t, chromedp.Do(ctx, chromedp.Navigate(app.url), chromedp.WaitVisible(chromedp.CSS("#notice[role=alert]"))))
	s.check(ctx, "load-failed")

	// An address that does not exist.
	must(t, chromedp.Do(ctx, chromedp.Navigate(app.url+"no/such/page"), chromedp.WaitVisible(chromedp.CSS("main h1"))))
	s.check(ctx, "not-found")

	// The emulator's fault injection page, linked from the dev banner (in English only).
	if lang == "en" {
		must(t, chromedp.Do(ctx, chromedp.Navigate(app.faultsURL), chromedp.WaitVisible(chromedp.CSS("h1"))))
		s.checkDevTool(ctx, "dev-faults")
	}

	// Signed out, then signed in without multi-factor authentication: the MFA page.
	must(t, chromedp.Do(ctx, chromedp.Navigate(app.url), chromedp.WaitVisible(chromedp.ID("telephone")),
		chromedp.Click(chromedp.CSS("header form button")), chromedp.WaitVisible(chromedp.CSS("main a[href*='auth/signin']")),
		chromedp.Click(chromedp.CSS("main a[href*='auth/signin']")), chromedp.WaitVisible(chromedp.ID("persona-nomfa")),
		chromedp.Click(chromedp.ID("persona-nomfa")), chromedp.WaitVisible(chromedp.CSS("#notice[role=alert]"))))
	s.check(ctx, "mfa")
}
