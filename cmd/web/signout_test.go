package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/testkit/redistest"
)

// Signing out while Redis does not answer still signs this browser out: the session cookie is
// expired, the page says the server could not end the session yet, and once Redis answers again
// the session is deleted there too, so the old cookie is worth nothing.
func TestSignOutWhileRedisDoesNotAnswer(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	app := startApp(t, "--session-store", "redis", "--redis-url", srv.URL)
	b := newBrowser(t)
	b.signIn(app, "admin")
	session := cookieNamed(b, app, "pcs_session")
	if session == nil {
		t.Fatal("no session cookie")
	}
	_, doc := b.get(app.url)
	csrf := doc.Find(`header input[name="_csrf"]`).AttrOr("value", "")

	srv.Pause()
	resume := sync.OnceFunc(srv.Resume)
	defer resume()
	resp, doc := b.post(app.url+"auth/signout", url.Values{"_csrf": {csrf}})
	if c := cookieNamed(b, app, "pcs_session"); c != nil {
		t.Errorf("the session cookie is still in the browser after signing out: %d %q", resp.StatusCode, text(doc.Find("main")))
	}
	if got := text(doc.Find("main")); !strings.Contains(got, "signed out") || !strings.Contains(got, "could not") {
		t.Errorf("the page after signing out with Redis down: %q; want it to say the server could not end the session yet", got)
	}
	resume()

	deadline := time.Now().Add(15 * time.Second)
	for {
		r := withSessionCookie(t, app, session.Value)
		if r.StatusCode == http.StatusSeeOther && strings.Contains(r.Header.Get("Location"), "auth/signin") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("once Redis answers again, the old session cookie still works: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(app.logs.String(), "session not deleted") {
		t.Errorf("the failed deletion was not logged:\n%s", app.logs.String())
	}
}

func cookieNamed(b *browser, app *testApp, name string) *http.Cookie {
	for _, c := range b.client.Jar.Cookies(mustParse(app.url)) {
		if c.Name == name {
			return c
		}
	}
	return nil
}
