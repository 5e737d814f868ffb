package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// With JavaScript off, the same path works with plain form posts: sign in, a field error (the
// whole page again, focus on the field), a refusal explained, then a save answered with a 303
// to the page and its one-time "Saved" message. Each page also passes axe-core and fits 360 and
// 1440 px.
func TestBrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	src := axeSource(t)
	app := startApp(t)
	ctx := newChrome(t)
	s := &stateChecker{t: t, axe: src, prefix: "en-nojs", seen: map[string]bool{}}
	// Evaluations through DevTools still run with scripts disabled, but axe-core's promises do
	// not settle: scripts come back on for the checks of a loaded page (which does not run its
	// own scripts again) and go off before the next action.
	scripts := func(on bool) {
		t.Helper()
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(state string) {
		t.Helper()
		if cdp(t, ctx, chromedp.Evaluate[bool](`typeof window.htmx !== "undefined"`)) {
			t.Fatalf("%s: htmx ran: JavaScript is not disabled", state)
		}
		scripts(true)
		s.check(ctx, state)
		scripts(false)
	}
	scripts(false)
	browserSignIn(t, ctx, app, "admin")
	if cdp(t, ctx, chromedp.Evaluate[bool](`typeof window.htmx !== "undefined"`)) {
		t.Fatal("htmx ran: JavaScript is not disabled")
	}
	_, oldTel, _ := app.profile(t, devidp.TenantID)

	// A field error: the whole page, the message by the field, focus on it (autofocus needs no
	// script), the typed values kept, the title saying something is wrong.
	must(t, chromedp.Do(ctx, setValue("email", "support at contoso"), setValue("telephone", "+33 1 11 22 33 44"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("email-error"))))
	if f := waitFocus(t, ctx, "input#email"); f != "input#email" {
		t.Errorf("after field errors focus is on %q, want the first field in error", f)
	}
	attrs := cdp(t, ctx, chromedp.Attributes(chromedp.ID("email")))
	if attrs["aria-invalid"] != "true" || !strings.Contains(attrs["aria-describedby"], "email-error") {
		t.Errorf("email input not marked invalid: %v", attrs)
	}
	if msg := cdp(t, ctx, chromedp.Text(chromedp.CSS(`#notice[role="alert"]`))); !strings.Contains(msg, "Some values need a correction") {
		t.Errorf("field error message = %q", msg)
	}
	if title := cdp(t, ctx, chromedp.Title()); !strings.HasPrefix(title, "Some values need a correction") {
		t.Errorf("title %q does not say something went wrong", title)
	}
	if v := cdp(t, ctx, chromedp.Value(chromedp.ID("telephone"))); v != "+33 1 11 22 33 44" {
		t.Errorf("typed telephone lost: %q", v)
	}
	check("field-error")

	// A refusal by Partner Center: the same explanation as with htmx, the values kept.
	app.injectFaults(t, pcemu.Fault{Method: http.MethodPut, Status: 403, Code: "900150"})
	must(t, chromedp.Do(ctx, setValue("email", "care@contoso-partner.example"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#notice[role="alert"] dl`))))
	msg := cdp(t, ctx, chromedp.Text(chromedp.CSS("#notice")))
	for _, want := range []string{"role", "Account admin", "900150", "Correlation id"} {
		if !strings.Contains(msg, want) {
			t.Errorf("role explanation %q lacks %q", msg, want)
		}
	}
	if f := waitFocus(t, ctx, "div#notice"); f != "div#notice" {
		t.Errorf("after a refusal focus is on %q, want the message", f)
	}
	check("fail-403-role")

	// Saved: 303 to the page, which shows the one-time message with what changed.
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || !strings.HasSuffix(resp.URL, "/") {
		t.Errorf("after the save the browser is at %s (%d), want the page after a redirect", resp.URL, resp.Status)
	}
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#notice[role="status"]`))))
	msg = cdp(t, ctx, chromedp.Text(chromedp.CSS("#notice")))
	for _, want := range []string{"Saved", "Telephone: " + oldTel + " → +33 1 11 22 33 44", "Email:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("success message %q lacks %q", msg, want)
		}
	}
	if f := waitFocus(t, ctx, "div#notice"); f != "div#notice" {
		t.Errorf("after a save focus is on %q, want the message", f)
	}
	if title := cdp(t, ctx, chromedp.Title()); !strings.HasPrefix(title, "Saved") {
		t.Errorf("title %q", title)
	}
	check("saved")
	if _, tel, _ := app.profile(t, devidp.TenantID); tel != "+33 1 11 22 33 44" {
		t.Errorf("Partner Center holds %q", tel)
	}

	// The message is shown once: reloading shows the form alone, with the saved values.
	must(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("telephone"))))
	if n := cdp(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#notice").length`)); n != 0 {
		t.Error("the saved message is shown again after a reload")
	}
	if v := cdp(t, ctx, chromedp.Value(chromedp.ID("telephone"))); v != "+33 1 11 22 33 44" {
		t.Errorf("after reload the telephone is %q", v)
	}
}
