package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devidp"
	"pcsupport/internal/devnotify"
	"pcsupport/internal/notify"
)

// The whole-app tests' senders wait a tenth of a retry's real wait (10 s first) and read the
// outbox every half second (5 s), so that a receiver that was down gets its message about a
// second after it is back.
func init() {
	tuneSender = func(o *notify.Options) {
		o.Jitter = func(d time.Duration) time.Duration { return d / 10 }
		o.PollEvery = 500 * time.Millisecond
	}
}

// In --dev every change, saved here or made outside, reaches the stand-in receiver in the three
// formats, the Standard Webhooks message signed with the app's secret; a receiver that is down
// gets it later; the history page says how each change's notification stands.
func TestNotificationsOfChangesReachTheDevReceiver(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	receiver := app.dev.Notifications
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	if href := doc.Find(`header a:contains("notifications received")`).AttrOr("href", ""); href != app.dev.notificationsURL() {
		t.Errorf("the dev banner links the receiver's page at %q, want %q", href, app.dev.notificationsURL())
	}

	form := formValues(doc)
	form.Set("telephone", "+33 1 22 22 22 22")
	if _, doc := b.post(app.url+"save", form); !strings.Contains(text(doc.Find(`#notice[role="status"]`)), "Saved") {
		t.Fatalf("save: %s", text(doc.Find("main")))
	}
	got := waitForMessages(t, receiver, 3, func(m devnotify.Message) bool { return strings.Contains(m.Body, "+33 1 22 22 22 22") })
	for _, m := range got {
		if m.Status >= 300 || m.Problem != "" {
			t.Errorf("%s message refused: %d %s", m.Format, m.Status, m.Problem)
		}
		if !strings.Contains(m.Body, "Contoso Partner") || !strings.Contains(m.Body, "Ada Admin") {
			t.Errorf("%s message does not name the company and who saved:\n%s", m.Format, m.Body)
		}
		if m.Format == "standard" && !m.Verified {
			t.Errorf("the Standard Webhooks message does not verify: %s", m.Signature)
		}
	}
	if got := notificationLine(b, app); got != "Delivered to every receiver" {
		t.Errorf("history page after delivery: %q", got)
	}

	receiver.SetDown(true)
	app.dev.emu.SetProfile(devidp.TenantID, "desk@contoso-partner.example", "+33 1 22 22 22 22", "www.contoso-partner.example")
	b.get(app.url) // the app notices the change made outside
	waitForMessages(t, receiver, 3, func(m devnotify.Message) bool {
		return strings.Contains(m.Body, "desk@contoso-partner.example") && m.Status == http.StatusServiceUnavailable
	})
	if got := notificationLine(b, app); !strings.HasPrefix(got, "Not delivered yet") {
		t.Errorf("history page while the receiver is down: %q", got)
	}
	receiver.SetDown(false)
	waitForMessages(t, receiver, 3, func(m devnotify.Message) bool {
		return strings.Contains(m.Body, "desk@contoso-partner.example") && m.Status < 300
	})
	if got := notificationLine(b, app); got != "Delivered to every receiver" {
		t.Errorf("history page once the receiver is back: %q", got)
	}
	for _, m := range receiver.Messages() {
		if strings.Contains(m.Body, app.cfg.NotifySecret.Text()) || strings.Contains(m.Body, "access_token") {
			t.Errorf("a %s message carries a secret", m.Format)
		}
	}
	if strings.Contains(app.logs.String(), app.dev.NotificationsURL) {
		t.Errorf("the log names a receiver's URL")
	}
}

// A notification queued while the receivers are down survives a restart of the app: the
// restarted app delivers it once they are back, with the id it had before.
func TestARestartLosesNoNotification(t *testing.T) {
	t.Parallel()
	secret := notify.NewSecret()
	receiver := devnotify.New(secret)
	srv := httptest.NewServer(receiver)
	t.Cleanup(srv.Close)
	receiver.SetDown(true)
	args := []string{"--dev", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--notify-webhooks", srv.URL + "/standard slack:" + srv.URL + "/slack", "--notify-secret", secret.Text()}
	var id string
	t.Run("saved while the receivers are down", func(t *testing.T) {
		app := runApp(t, args...)
		if app.dev.Notifications != nil {
			t.Errorf("--dev started its own receiver although receivers were given")
		}
		b := newBrowser(t)
		f := formValues(b.signIn(app, "admin"))
		f.Set("website", "www.restart-marker.example")
		b.post(app.url+"save", f)
		down := waitForMessages(t, receiver, 2, func(m devnotify.Message) bool { return strings.Contains(m.Body, "restart-marker") })
		for _, m := range down {
			if m.Format == "standard" {
				id = m.ID
			}
		}
	})
	receiver.SetDown(false)
	t.Run("delivered after the restart", func(t *testing.T) {
		runApp(t, args...)
		got := waitForMessages(t, receiver, 2, func(m devnotify.Message) bool {
			return strings.Contains(m.Body, "restart-marker") && m.Status < 300
		})
		for _, m := range got {
			if m.Format == "standard" && (m.ID != id || !m.Verified) {
				t.Errorf("after the restart the message has id %q (verifies: %t), before %q", m.ID, m.Verified, id)
			}
		}
	})
}

// waitForMessages waits (a retry comes after a second here) until the receiver has taken n
// messages that match, one per format, and returns them.
func waitForMessages(t *testing.T, r *devnotify.Receiver, n int, match func(devnotify.Message) bool) []devnotify.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got []devnotify.Message
		var formats []string
		for _, m := range r.Messages() {
			if match(m) && !slices.Contains(formats, m.Format) {
				got, formats = append(got, m), append(formats, m.Format)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver took %d matching messages (%v), want %d", len(got), formats, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// notificationLine is what the history page says of the newest change's notification.
func notificationLine(b *browser, app *testApp) string {
	_, doc := b.get(app.url + "history")
	line, _ := strings.CutPrefix(text(doc.Find("#history > li").First().Find("p.notified")), "Notifications: ")
	return line
}
