package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/devidp"
	"pcsupport/internal/devnotify"
)

// startWatch presses "Watch for changes made outside this app with my sign-in" on the profile
// page doc, as a browser without JavaScript does, and returns the page it lands on.
func startWatch(t *testing.T, b *browser, app *testApp, doc *goquery.Document) *goquery.Document {
	t.Helper()
	form := doc.Find(`#watch form`)
	if action := form.AttrOr("action", ""); !strings.HasSuffix(action, "watch/start") || !strings.Contains(text(form), "Watch for changes made outside this app with my sign-in") {
		t.Fatalf("no start button on the profile page: %q\n%s", action, text(doc.Find("#watch")))
	}
	resp, page := b.post(app.url+"watch/start", url.Values{"_csrf": {form.Find(`input[name="_csrf"]`).AttrOr("value", "")}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("start: %d at %s\n%s", resp.StatusCode, resp.Request.URL, text(page.Find("main")))
	}
	return page
}

// A change made in the portal (here, the emulator's control surface) with nobody opening the app
// is recorded in the history and reaches the team's receiver within two watch intervals.
func TestTheWatchNoticesAChangeMadeOutsideWithNoPageView(t *testing.T) {
	t.Parallel()
	const interval = time.Second
	app := startApp(t, "--watch-interval", interval.String())
	b := newBrowser(t)
	page := startWatch(t, b, app, b.signIn(app, "admin"))
	watch := text(page.Find("#watch"))
	for _, want := range []string{"Watching: the support profile is read every 1 s", "Started by Ada Admin", "Stop watching"} {
		if !strings.Contains(watch, want) {
			t.Errorf("the page does not say %q: %s", want, watch)
		}
	}

	changed := time.Now()
	app.dev.emu.SetProfile(devidp.TenantID, "portal@contoso-partner.example", "+33 1 99 99 99 99", "www.contoso-partner.example")
	got := waitForMessagesWithin(t, app.dev.Notifications, 3, 2*interval+time.Second, func(m devnotify.Message) bool {
		return strings.Contains(m.Body, "portal@contoso-partner.example") && strings.Contains(m.Body, "outside")
	})
	t.Logf("notified %v after the change", time.Since(changed).Round(10*time.Millisecond))
	for _, m := range got {
		if m.Status >= 300 || m.Problem != "" {
			t.Errorf("%s message refused: %d %s", m.Format, m.Status, m.Problem)
		}
	}
	_, doc := b.get(app.url + "history")
	if first := text(doc.Find("#history > li").First()); !strings.Contains(first, "Changed outside this app") || !strings.Contains(first, "portal@contoso-partner.example") {
		t.Errorf("the history's newest entry: %s", first)
	}
	_, doc = b.get(app.url)
	if watch := text(doc.Find("#watch")); !strings.Contains(watch, "Last read:") {
		t.Errorf("the page does not say when the watch last read: %s", watch)
	}
	for _, secret := range []string{"refresh_token", "rt-"} {
		if strings.Contains(app.logs.String(), secret) {
			t.Errorf("the log shows %q", secret)
		}
	}
}

// A refresh token that Microsoft refuses (revoked) stops the watch: the team is told, and the
// page says that it stopped, when, why, and that an admin must start it again.
func TestARefusedRefreshStopsTheWatch(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--watch-interval", "1s")
	b := newBrowser(t)
	startWatch(t, b, app, b.signIn(app, "admin"))

	app.dev.idp.RevokeRefreshTokens(devidp.Personas()[0].ObjectID)
	got := waitForMessagesWithin(t, app.dev.Notifications, 3, 3*time.Second, func(m devnotify.Message) bool {
		return strings.Contains(m.Body, "watch")
	})
	for _, m := range got {
		if m.Status >= 300 || m.Problem != "" {
			t.Errorf("%s message refused: %d %s", m.Format, m.Status, m.Problem)
		}
		if !strings.Contains(m.Body, "Contoso Partner") || !strings.Contains(m.Body, "Ada Admin") || !strings.Contains(m.Body, "AADSTS700082") {
			t.Errorf("%s message does not name the company, who started the watch and why it stopped:\n%s", m.Format, m.Body)
		}
		if m.Format == "standard" && !strings.Contains(m.Body, `"support_profile.watch_stopped"`) {
			t.Errorf("standard message type: %s", m.Body)
		}
	}

	_, doc := b.get(app.url)
	stopped := text(doc.Find("#watch #watch-stopped"))
	for _, want := range []string{"The watch stopped", "It stopped ", "UTC", "Ada Admin", "AADSTS700082", "until an admin starts the watch again"} {
		if !strings.Contains(stopped, want) {
			t.Errorf("the page does not say %q: %s", want, stopped)
		}
	}
	if doc.Find(`#watch form[action$="watch/start"]`).Length() != 1 {
		t.Errorf("no way to start the watch again: %s", text(doc.Find("#watch")))
	}
}

// An admin stops the watch: the kept token is deleted, and the page offers to start it again.
func TestAnAdminStopsTheWatch(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	page := startWatch(t, b, app, b.signIn(app, "admin"))
	form := page.Find(`#watch form[action$="watch/stop"]`)
	if form.Length() != 1 {
		t.Fatalf("no stop button: %s", text(page.Find("#watch")))
	}
	_, page = b.post(app.url+"watch/stop", url.Values{"_csrf": {form.Find(`input[name="_csrf"]`).AttrOr("value", "")}})
	if watch := text(page.Find("#watch")); strings.Contains(watch, "Watching") || page.Find(`#watch form[action$="watch/start"]`).Length() != 1 {
		t.Errorf("after stopping: %s", watch)
	}
	// Without the CSRF token nothing happens.
	if resp, _ := b.post(app.url+"watch/start", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("start without the CSRF token: %d", resp.StatusCode)
	}
}

// waitForMessagesWithin is waitForMessages with a deadline of its own.
func waitForMessagesWithin(t *testing.T, r *devnotify.Receiver, n int, within time.Duration, match func(devnotify.Message) bool) []devnotify.Message {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var got []devnotify.Message
		var formats []string
		for _, m := range r.Messages() {
			if match(m) && !strings.Contains(strings.Join(formats, " "), m.Format) {
				got, formats = append(got, m), append(formats, m.Format)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %v the receiver took %d matching messages (%v), want %d", within, len(got), formats, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
