package e2e

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// A slow save says so at once, in the button and in a polite live region, then that it is still
// waiting for Partner Center; the form cannot be sent twice meanwhile.
func TestBrowserSlowSaveSaysItIsSaving(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	browserSignIn(t, ctx, app, "admin")
	app.injectFaults(t, pcemu.Fault{Method: http.MethodPut, Delay: 7 * time.Second})
	must(t, chromedp.Do(ctx, replaceValue("telephone", "+1 425 555 0191"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`))))
	// Within 100 ms, as the person perceives "at once".
	must(t, chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond)))
	state := func() (button, status string, disabled bool) {
		t.Helper()
		button = cdp(t, ctx, chromedp.Evaluate[string](`document.querySelector('#profile button[type="submit"]').textContent`))
		status = cdp(t, ctx, chromedp.Evaluate[string](`document.getElementById('save-progress').textContent`))
		disabled = cdp(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#profile button[type="submit"]').disabled`))
		return
	}
	if button, status, disabled := state(); button != "Saving…" || status != "Saving…" || !disabled {
		t.Errorf("100 ms after Save: button %q (disabled %v), live region %q; want Saving… in both", button, disabled, status)
	}
	// A second click while it runs sends nothing.
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`))))
	must(t, chromedp.Do(ctx, chromedp.Sleep(5500*time.Millisecond)))
	if button, status, _ := state(); !strings.Contains(button, "Still waiting for Partner Center") || button != status {
		t.Errorf("after 5 s: button %q, live region %q; want Still waiting for Partner Center…", button, status)
	}
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#notice[role="status"]`))))
	if button, status, _ := state(); button != "Save" || status != "" {
		t.Errorf("after the save: button %q, live region %q", button, status)
	}
	if puts := app.stats(t).Puts; puts != 1 {
		t.Errorf("%d PUTs for one save clicked twice", puts)
	}
}

// Leaving a changed form asks first; switching language keeps what was typed, in the other
// language, without asking.
func TestBrowserChangedFormIsNotLostUnasked(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	browserSignIn(t, ctx, app, "admin")
	stayOnLeave(ctx)
	var asked atomic.Int32
	must(t, chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok && d.Type == page.DialogTypeBeforeunload {
			asked.Add(1)
		}
	}))
	must(t, chromedp.Do(ctx, replaceValue("telephone", "+1 425 555 0192")))

	// The history link: the browser asks, the person stays, the value is still there.
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#last-change a`)), chromedp.Sleep(500*time.Millisecond)))
	if asked.Load() != 1 {
		t.Errorf("leaving a changed form asked %d times, want once", asked.Load())
	}
	if v := cdp(t, ctx, chromedp.Evaluate[string](`document.getElementById('telephone').value`)); v != "+1 425 555 0192" {
		t.Errorf("after staying, the telephone reads %q", v)
	}

	// The language switch: no question, the page in French with the value typed, marked changed.
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav [lang="fr"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="fr"] #telephone`))))
	if v := cdp(t, ctx, chromedp.Evaluate[string](`document.getElementById('telephone').value`)); v != "+1 425 555 0192" {
		t.Errorf("after switching language, the telephone reads %q", v)
	}
	if hidden := cdp(t, ctx, chromedp.Evaluate[bool](`document.getElementById('telephone-changed').hidden`)); hidden {
		t.Error("the kept value is not marked as changed")
	}
	if asked.Load() != 1 {
		t.Errorf("switching language asked before leaving (%d questions)", asked.Load())
	}
	if _, _, tel := app.profile(t, devidp.TenantID); tel == "+1 425 555 0192" {
		t.Error("switching language saved the value")
	}
}
