package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"pcsupport/internal/devidp"
)

const chromiumPath = "/usr/bin/chromium"

// requireChromium skips the test when Chromium is missing, except where PCS_REQUIRE_BROWSER=1
// (CI) makes a missing browser a failure.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("PCS_REQUIRE_BROWSER") == "1" {
			t.Fatalf("Chromium is required (PCS_REQUIRE_BROWSER=1) but %s is missing", chromiumPath)
		}
		t.Skipf("browser test skipped: no Chromium at %s (apt-get install chromium to run it)", chromiumPath)
	}
}

// newChrome starts a headless Chromium for one test, which has 90 s to finish with it.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	return newChromeWithin(t, 90*time.Second)
}

// newChromeWithin starts a headless Chromium that the test has d to finish with.
func newChromeWithin(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	requireChromium(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, d)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	answerLeaving(t, ctx)
	return ctx
}

// leaveAnswers holds, per browser, whether a "leave this page?" question is answered by leaving
// (the default, as tests move on from a form they changed) or by staying (stayOnLeave).
var leaveAnswers sync.Map // context.Context -> *atomic.Bool (stay)

// answerLeaving answers the page's "leave this page?" questions, which would otherwise hold the
// browser until the test's deadline.
func answerLeaving(t *testing.T, ctx context.Context) {
	t.Helper()
	stay := &atomic.Bool{}
	leaveAnswers.Store(ctx, stay)
	must(t, chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok && d.Type == page.DialogTypeBeforeunload {
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: !stay.Load()})
			}()
		}
	}))
}

// stayOnLeave makes the browser of ctx answer "leave this page?" by staying.
func stayOnLeave(ctx context.Context) {
	if stay, ok := leaveAnswers.Load(ctx); ok {
		stay.(*atomic.Bool).Store(true)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func cdp[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// screenshot saves the page when PCS_SCREENSHOT_DIR is set, so people can look at each state.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("PCS_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = writeFileAtomically(filepath.Join(dir, name+".png"), png)
	}
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// writeFileAtomically writes the file whole: tests run in parallel, and several save the same
// state (the dev sign-in page) under the same name.
func writeFileAtomically(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".screenshot-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		return os.Rename(f.Name(), name)
	}
	os.Remove(f.Name())
	return err
}

// browserSignIn opens the app, which sends the browser to the dev provider, and picks a persona.
func browserSignIn(t *testing.T, ctx context.Context, app *devApp, persona string) {
	t.Helper()
	must(t, chromedp.Do(ctx, chromedp.Navigate(app.url), chromedp.WaitVisible(chromedp.ID("persona-"+persona))))
	screenshot(t, ctx, "dev-sign-in")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("persona-"+persona)), chromedp.WaitVisible(chromedp.ID("telephone"))))
}

// replaceValue types into a field as a person would, after clearing it.
func replaceValue(id, value string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx, chromedp.Clear(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), value))
	}
}

// markPage puts a marker in the page's JavaScript state; a page load would lose it.
func markPage(t *testing.T, ctx context.Context) {
	cdp(t, ctx, chromedp.Evaluate[bool]("window.__sameDocument = true"))
}

func stillSamePage(t *testing.T, ctx context.Context) bool {
	return cdp(t, ctx, chromedp.Evaluate[bool]("window.__sameDocument === true"))
}

// (a) The admin changes the telephone, saves, sees the success message without a page load,
// reloads and sees the new value.
func TestBrowserAdminSavesTelephone(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	browserSignIn(t, ctx, app, "admin")
	screenshot(t, ctx, "form")
	_, oldTel, _ := app.profile(t, devidp.TenantID)

	markPage(t, ctx)
	must(t, chromedp.Do(ctx, replaceValue("telephone", "+33 1 23 45 67 89"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice[role="status"]`))))
	screenshot(t, ctx, "saved")
	msg := cdp(t, ctx, chromedp.Text(chromedp.CSS("#notice")))
	if !strings.Contains(msg, "Saved") || !strings.Contains(msg, "Telephone: "+oldTel+" → +33 1 23 45 67 89") {
		t.Errorf("success message = %q", msg)
	}
	if !stillSamePage(t, ctx) {
		t.Error("the page was reloaded; the outcome should appear in place")
	}
	if _, tel, _ := app.profile(t, devidp.TenantID); tel != "+33 1 23 45 67 89" {
		t.Errorf("Partner Center holds %q", tel)
	}

	must(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("telephone"))))
	if v := cdp(t, ctx, chromedp.Value(chromedp.ID("telephone"))); v != "+33 1 23 45 67 89" {
		t.Errorf("after reload the telephone is %q", v)
	}
}

// (b) An invalid email shows its message next to the field and keeps every typed value.
func TestBrowserInvalidEmailKeepsTypedValues(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	browserSignIn(t, ctx, app, "admin")
	before := app.stats(t)

	markPage(t, ctx)
	must(t, chromedp.Do(ctx,
		replaceValue("email", "support at contoso"),
		replaceValue("telephone", "(425) 555-0199"),
		replaceValue("website", "https://help.contoso-partner.example"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("email-error"))))
	screenshot(t, ctx, "field-error")
	if msg := cdp(t, ctx, chromedp.Text(chromedp.ID("email-error"))); !strings.Contains(msg, "email address") {
		t.Errorf("email message = %q", msg)
	}
	attrs := cdp(t, ctx, chromedp.Attributes(chromedp.ID("email")))
	if attrs["aria-invalid"] != "true" || !strings.Contains(attrs["aria-describedby"], "email-error") {
		t.Errorf("email input not marked invalid: %v", attrs)
	}
	for id, want := range map[string]string{"email": "support at contoso", "telephone": "(425) 555-0199", "website": "https://help.contoso-partner.example"} {
		if v := cdp(t, ctx, chromedp.Value(chromedp.ID(id))); v != want {
			t.Errorf("%s = %q after the error, want what was typed, %q", id, v, want)
		}
	}
	if !stillSamePage(t, ctx) {
		t.Error("the page was reloaded")
	}
	if after := app.stats(t); after.Puts != before.Puts {
		t.Error("an invalid form reached Partner Center")
	}
}

// (c) The sales agent may read but not save: the save explains which roles can.
func TestBrowserSalesAgentSeesRoleExplanation(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)
	browserSignIn(t, ctx, app, "sales")
	_, oldTel, _ := app.profile(t, devidp.TenantID)

	must(t, chromedp.Do(ctx, replaceValue("telephone", "+1 425 555 0142"),
		chromedp.Click(chromedp.CSS(`#profile button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice[role="alert"]`))))
	screenshot(t, ctx, "forbidden")
	msg := cdp(t, ctx, chromedp.Text(chromedp.CSS("#notice")))
	for _, want := range []string{"role", "Account admin", "900150", "Correlation id"} {
		if !strings.Contains(msg, want) {
			t.Errorf("role explanation %q lacks %q", msg, want)
		}
	}
	if v := cdp(t, ctx, chromedp.Value(chromedp.ID("telephone"))); v != "+1 425 555 0142" {
		t.Errorf("typed telephone lost: %q", v)
	}
	if _, tel, _ := app.profile(t, devidp.TenantID); tel != oldTel {
		t.Errorf("Partner Center changed to %q", tel)
	}
}
