package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"pcsupport/internal/devidp"
)

// A number typed as dialled in the United States (Contoso's country) is offered in international
// form before it is saved: with htmx the field takes the offer and focus, Save stores it, and the
// button beside Save stores a number as typed instead (htmx sends the button that was pressed).
func TestBrowserTelephoneOffered(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	browserSignIn(t, ctx, app, "admin")
	waitForCompanyName(t, ctx, "Contoso Partner") // the country comes with the name

	must(t, chromedp.Do(ctx, setValue("telephone", "425 555 0188")))
	save(t, ctx, "#telephone-suggestion")
	if got := cdp(t, ctx, chromedp.Value(chromedp.ID("telephone"))); got != "+1 425-555-0188" {
		t.Errorf("the field holds %q, want the international form", got)
	}
	if f := focused(t, ctx); f != "input#telephone" {
		t.Errorf("after the offer focus is on %q, want the telephone", f)
	}
	if got := cdp(t, ctx, chromedp.Text(chromedp.ID("telephone-suggestion"))); !strings.Contains(got, "Did you mean +1 425-555-0188?") {
		t.Errorf("the offer says %q", got)
	}
	screenshot(t, ctx, "telephone-offer")
	save(t, ctx, "#notice[role=status]")
	if _, tel, _ := app.profile(t, devidp.TenantID); tel != "+1 425-555-0188" {
		t.Errorf("Partner Center holds %q after the second press, want the international form", tel)
	}

	must(t, chromedp.Do(ctx, setValue("telephone", "(425) 555-0177")))
	save(t, ctx, "#telephone-suggestion")
	expectSwap(t, ctx)
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[name="keep_telephone"]`))))
	waitSettled(t, ctx)
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#notice[role=status]"))))
	if _, tel, _ := app.profile(t, devidp.TenantID); tel != "(425) 555-0177" {
		t.Errorf("Partner Center holds %q after Keep, want the number as typed", tel)
	}
}

// The same without JavaScript: the offer comes as a whole page, and each button posts the form.
func TestBrowserTelephoneOfferedWithoutJavaScript(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	browserSignIn(t, ctx, app, "admin")
	waitForCompanyName(t, ctx, "Contoso Partner")
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	must(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("telephone"))))

	must(t, chromedp.Do(ctx, setValue("telephone", "425 555 0166"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("telephone-suggestion"))))
	if got := cdp(t, ctx, chromedp.Value(chromedp.ID("telephone"))); got != "+1 425-555-0166" {
		t.Errorf("the field holds %q, want the international form", got)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[name="keep_telephone"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || !strings.HasSuffix(resp.URL, "/") {
		t.Errorf("after Keep the browser is at %s (%d), want the page after a redirect", resp.URL, resp.Status)
	}
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#notice[role="status"]`))))
	if _, tel, _ := app.profile(t, devidp.TenantID); tel != "425 555 0166" {
		t.Errorf("Partner Center holds %q after Keep, want the number as typed", tel)
	}
}
