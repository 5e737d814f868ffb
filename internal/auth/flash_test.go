package auth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// addFlash keeps message for the browser's next page, as a save without JavaScript does.
func (b *browser) addFlash(m *Manager, message string) (err error) {
	b.do(m, "POST", "/save", func(w http.ResponseWriter, r *http.Request) { err = m.AddFlash(w, r, []byte(message)) })
	return err
}

// takeFlash is the message the browser's next page shows, "" for none.
func (b *browser) takeFlash(m *Manager) (message string) {
	b.do(m, "GET", "/", func(w http.ResponseWriter, r *http.Request) { message = string(m.TakeFlash(w, r)) })
	return message
}

// The message after a save is shown on the next page, once; the browser carries it sealed.
func TestOneTimeMessageIsShownOnce(t *testing.T) {
	t.Parallel()
	m, p, _ := clockedApp(t)
	b := newBrowser(t)
	b.signIn(m, p, ada)
	const saved = "Saved: support@contoso.example"
	if err := b.addFlash(m, saved); err != nil {
		t.Fatal(err)
	}
	if c := b.jar[flashCookie]; c == nil || strings.Contains(c.Value, "support@contoso.example") {
		t.Fatalf("the message cookie is %+v, want one that does not show the message", c)
	}
	if got := b.takeFlash(m); got != saved {
		t.Errorf("the next page shows %q, want %q", got, saved)
	}
	if b.has(flashCookie) {
		t.Error("the browser still holds the message after it was shown")
	}
	if got := b.takeFlash(m); got != "" {
		t.Errorf("the page after shows %q again", got)
	}
}

// A message is for the person whose save it tells of: not for whoever signs in next on the same
// browser, nor for Ada herself once her session has ended; and it is dropped either way.
func TestOneTimeMessageOnlyForItsPerson(t *testing.T) {
	t.Parallel()
	t.Run("another person signs in on the browser", func(t *testing.T) {
		t.Parallel()
		m, p, _ := clockedApp(t)
		b := newBrowser(t)
		b.signIn(m, p, ada)
		if err := b.addFlash(m, "Saved"); err != nil {
			t.Fatal(err)
		}
		b.signIn(m, p, bob)
		if got := b.takeFlash(m); got != "" {
			t.Errorf("Bob is shown Ada's message %q", got)
		}
		if b.has(flashCookie) {
			t.Error("Ada's message is still in the browser after Bob's page")
		}
		b.signIn(m, p, ada)
		if got := b.takeFlash(m); got != "" {
			t.Errorf("Ada is shown %q after Bob's page dropped it", got)
		}
	})
	t.Run("the session ended", func(t *testing.T) {
		t.Parallel()
		m, p, clock := clockedApp(t)
		b := newBrowser(t)
		b.signIn(m, p, ada)
		if err := b.addFlash(m, "Saved"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(8*time.Hour + time.Minute) // the default session lifetime
		if got := b.takeFlash(m); got != "" || b.has(flashCookie) {
			t.Errorf("with the session over the page shows %q (cookie kept: %v)", got, b.has(flashCookie))
		}
	})
	t.Run("a message the app did not seal", func(t *testing.T) {
		t.Parallel()
		m, p, _ := clockedApp(t)
		b := newBrowser(t)
		b.signIn(m, p, ada)
		b.jar[flashCookie] = &http.Cookie{Name: flashCookie, Value: "Your profile was deleted", Path: "/"}
		if got := b.takeFlash(m); got != "" || b.has(flashCookie) {
			t.Errorf("a forged message is shown: %q (cookie kept: %v)", got, b.has(flashCookie))
		}
	})
}

// Without a signed-in person there is nobody to keep a message for: none is kept.
func TestNoOneTimeMessageWithoutASignedInPerson(t *testing.T) {
	t.Parallel()
	m, _, _ := clockedApp(t)
	b := newBrowser(t)
	if err := b.addFlash(m, "Saved"); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("AddFlash without a session: %v, want ErrNotSignedIn", err)
	}
	if b.has(flashCookie) {
		t.Error("a message was kept for nobody")
	}
}
