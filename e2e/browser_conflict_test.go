package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// Two people, two browser sessions, one profile: the second save shows the conflict, and saving
// over it keeps the first person's change to the field the second did not touch.
func TestBrowserTwoSessionsEditingTheSameProfile(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	first := newChrome(t)
	browserSignIn(t, first, app, "admin")
	second := newBrowserContext(t, first) // its own cookies
	browserSignIn(t, second, app, "admin")

	must(t, chromedp.Do(first, replaceValue("telephone", "+44 20 7946 0000"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice[role="status"]`))))

	must(t, chromedp.Do(second, replaceValue("email", "care@contoso-partner.example"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice[role="alert"]`))))
	screenshot(t, second, "conflict")
	table := cdp(t, second, chromedp.Text(chromedp.CSS("#profile table")))
	for _, want := range []string{"Telephone", "+44 20 7946 0000", "changed since", "the current value, kept", "Email", "care@contoso-partner.example", "your change"} {
		if !strings.Contains(table, want) {
			t.Errorf("conflict table lacks %q:\n%s", want, table)
		}
	}
	if email, _, _ := app.profile(t, devidp.TenantID); email == "care@contoso-partner.example" {
		t.Fatal("the conflicting save was applied")
	}

	must(t, chromedp.Do(second, chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice[role="status"]`))))
	if email, tel, _ := app.profile(t, devidp.TenantID); email != "care@contoso-partner.example" || tel != "+44 20 7946 0000" {
		t.Errorf("after saving over: email %q, telephone %q (the first person's telephone must stay)", email, tel)
	}
}

// While a save runs the button is disabled, so a second click sends nothing; the correlation id of
// a failure can be copied.
func TestBrowserSaveButtonDisabledWhileSaving(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	browserSignIn(t, ctx, app, "admin")
	app.injectFaults(t, pcemu.Fault{Method: http.MethodPut, Delay: 1500 * time.Millisecond})
	must(t, chromedp.Do(ctx, replaceValue("telephone", "+1 425 555 0177"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`))))
	disabled := cdp(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#profile button[type="submit"]').disabled`))
	if !disabled {
		t.Error("the Save button stays enabled while the save runs")
	}
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#notice[role="status"]`))))
	if puts := app.stats(t).Puts; puts != 1 {
		t.Errorf("%d PUTs", puts)
	}

	app.injectFaults(t, pcemu.Fault{Method: http.MethodPut, Status: 403, Code: "900150"})
	must(t, chromedp.Do(ctx, replaceValue("telephone", "+1 425 555 0178"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice[role="alert"] button[data-copy]`))))
	screenshot(t, ctx, "failure-with-copy")
	ctxTimeout, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := chromedp.Do(ctxTimeout, chromedp.WaitEnabled(chromedp.CSS(`#profile button[type="submit"]`))); err != nil {
		t.Errorf("the Save button did not come back after the failure: %v", err)
	}
}
