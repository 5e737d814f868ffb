package main

import (
	"context"
	"fmt"
	"github.com/PuerkitoBio/goquery"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/devidp"
	"pcsupport/internal/testkit/redistest"
)

// What an outsider sends must not grow what the app keeps: these tests send what an attacker or
// a bad day would, and measure the data directory, Redis and /metrics before and after.

// Made-up HTTP methods are answered, and counted under one label, not one label each.
func TestMadeUpMethodsDoNotGrowMetrics(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	before := metricsSize(t, app)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := range 2000 {
		req, _ := http.NewRequest(fmt.Sprintf("X%04d", i), app.url+"save", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if grown := metricsSize(t, app) - before; grown > 4<<10 {
		t.Errorf("/metrics grew by %d bytes after 2,000 requests with made-up methods, want under 4 KB", grown)
	}
}

func metricsSize(t *testing.T, app *testApp) int {
	t.Helper()
	resp, err := http.Get(app.url + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return len(b)
}

// Anonymous visitors make the app keep nothing: starting sign-ins, opening the page and posting
// oversized forms leave the data directory as it was.
func TestAnonymousVisitorsLeaveNoFiles(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	app := startApp(t, "--data-dir", dataDir)
	before := dirBytes(t, dataDir)
	floodAnonymously(t, app, 30) // the first request of each kind adds its series to /metrics
	metricsBefore := metricsSize(t, app)
	floodAnonymously(t, app, 1500)
	if grown := dirBytes(t, dataDir) - before; grown > 4<<10 {
		t.Errorf("the data directory grew by %d bytes after anonymous requests, want under 4 KB", grown)
	}
	// Numbers grow a few digits (counts, sums, the runtime's figures); no series per request.
	if grown := metricsSize(t, app) - metricsBefore; grown > 4<<10 {
		t.Errorf("/metrics grew by %d bytes after anonymous requests, want under 4 KB", grown)
	}
}

// The same with sessions in Redis: no key is left behind by anyone who did not sign in.
func TestAnonymousVisitorsLeaveNoRedisKeys(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	app := startApp(t, "--session-store", "redis", "--redis-url", srv.URL)
	rdb := srv.Client(t)
	floodAnonymously(t, app, 1500)
	if n, err := rdb.DBSize(context.Background()).Result(); err != nil || n != 0 {
		t.Errorf("Redis holds %d keys (err %v) after anonymous requests only, want 0", n, err)
	}
}

// floodAnonymously sends n requests of the kinds an anonymous visitor can send: sign-in starts
// (some with huge return targets), page views, and form posts with oversized fields through a
// valid CSRF token (anyone can get one).
func floodAnonymously(t *testing.T, app *testApp, n int) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrfCookie, token := anonymousCSRF(t, app)
	huge := strings.Repeat("x", 10000)
	hugeNext := "/" + strings.Repeat("a", 30<<10)
	send := func(i int) {
		var req *http.Request
		switch i % 3 {
		case 0:
			req, _ = http.NewRequest(http.MethodGet, app.url+"auth/signin?next="+url.QueryEscape(hugeNext), nil)
		case 1:
			req, _ = http.NewRequest(http.MethodGet, app.url, nil)
		default:
			form := url.Values{"email": {huge}, "telephone": {huge}, "website": {huge}, "_csrf": {token}}
			req, _ = http.NewRequest(http.MethodPost, app.url+"save", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(csrfCookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s answered %d", req.Method, req.URL.Path, resp.StatusCode)
		}
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				send(i)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// anonymousCSRF gets a CSRF cookie and its token the way any visitor can: from a page.
func anonymousCSRF(t *testing.T, app *testApp) (*http.Cookie, string) {
	t.Helper()
	resp, err := http.Get(app.url + "auth/signed-out")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "pcs_csrf" {
			return c, c.Value
		}
	}
	t.Fatal("no CSRF cookie on the signed-out page")
	return nil, ""
}

func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// A return target too long to be a page of this app is replaced by the page itself: the sign-in
// goes on, and the person lands on the form.
func TestHugeReturnTargetFallsBackToThePage(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	for _, next := range []string{"/" + strings.Repeat("a", 30<<10), "/" + strings.Repeat("a", 45<<10),
		"/" + strings.Repeat("<", 1023)} { // 1 KB as sent, three times that once escaped again
		b := newBrowser(t)
		resp, _ := b.signInAt(app, app.url+"auth/signin?next="+url.QueryEscape(next), "admin")
		if got := resp.Request.URL.String(); got != app.url {
			t.Errorf("next of %d bytes: landed on %.80s..., want %s", len(next), got, app.url)
		}
	}
	if strings.Contains(app.logs.String(), "level=ERROR") {
		t.Errorf("a long return target was logged as an error:\n%s", app.logs.String())
	}
}

// Twenty tabs restored at once each start a sign-in with the same cookies: what the browser then
// sends to the sign-in routes stays well under the 8 KB a proxy accepts in a header (nginx), and
// signing in still works.
func TestManyTabsSigningInAtOnceKeepTheCookiesSmall(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	before := b.client.Jar.Cookies(mustParse(app.url + "auth/"))
	next := "/history?" + strings.Repeat("q", 400) // a long return target, as the app's own pages go
	var wg sync.WaitGroup
	answers := make([]*http.Response, 20)
	for i := range answers {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, app.url+"auth/signin?next="+url.QueryEscape(next), nil)
			for _, c := range before {
				req.AddCookie(c)
			}
			resp, err := noRedirect(nil).Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			answers[i] = resp
		})
	}
	wg.Wait()
	for _, resp := range answers {
		if resp == nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("a tab's sign-in did not start: %v", resp)
		}
		b.client.Jar.SetCookies(mustParse(app.url+"auth/"), resp.Cookies())
	}
	req, _ := http.NewRequest(http.MethodGet, app.url+"auth/callback", nil)
	for _, c := range b.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	if n := len(req.Header.Get("Cookie")); n > 4<<10 {
		t.Errorf("after twenty tabs the browser sends %d bytes of cookies to the sign-in routes, want at most 4 KB", n)
	}
	// Each tab comes back from the provider. A tab whose sign-in another overwrote is told so, with
	// a way to sign in again, until one finishes; after that every tab lands on a page of the app.
	signedIn := false
	for i, resp := range answers {
		_, doc := b.get(resp.Header.Get("Location"))
		form := doc.Find("form").First()
		values := url.Values{"persona": {"admin"}}
		form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) { values.Set(s.AttrOr("name", ""), s.AttrOr("value", "")) })
		target, _ := url.Parse(app.dev.idpURL)
		target, _ = target.Parse(form.AttrOr("action", ""))
		resp, doc := b.post(target.String(), values)
		// Signed in: on the page the tab was going to (its return target) or on the form.
		landed := resp.StatusCode == http.StatusOK && !strings.Contains(resp.Request.URL.Path, "/auth/")
		switch {
		case landed:
			signedIn = true
		case signedIn:
			t.Errorf("tab %d, after another tab signed in: %d at %s\n%.2000s", i, resp.StatusCode, resp.Request.URL, html(doc))
		case doc.Find(`main a[href*="auth/signin"]`).Length() != 1:
			t.Errorf("tab %d: %d without a way to sign in again\n%.2000s", i, resp.StatusCode, html(doc))
		}
	}
	if !signedIn {
		t.Error("no tab signed in")
	}
}

// Ada signs out; her open form is sent afterwards from an old tab; Sam signs in on the same
// browser. Sam must not see what Ada typed.
func TestValuesTypedAfterSignOutAreNotShownToTheNextPerson(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	form := formValues(doc)
	form.Set("email", "ada.private@contoso-partner.example")
	b.post(app.url+"auth/signout", url.Values{"_csrf": {doc.Find(`header input[name="_csrf"]`).AttrOr("value", "")}})

	resp, _ := b.post(app.url+"save", form) // the old tab: leads to sign-in
	if !strings.HasPrefix(resp.Request.URL.String(), app.dev.idpURL) {
		t.Fatalf("POST after signing out went to %s", resp.Request.URL)
	}
	_, doc = b.signInAt(app, resp.Request.URL.String(), "sales")
	if got := doc.Find(`input[name="email"]`).AttrOr("value", ""); got == "ada.private@contoso-partner.example" {
		t.Error("Sam sees the email Ada typed before she signed out")
	}
	if strings.Contains(text(doc.Find("main")), "Your values are back") {
		t.Error("Sam is told that his values are back")
	}
}

// Ada's session expires while she types; she signs in again and finds her values. If Sam signs
// in on that browser instead, he does not.
func TestValuesTypedIntoAnExpiredSessionComeBackOnlyToTheirOwner(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--session-lifetime", "2s")
	for _, who := range []struct {
		persona  string
		getsBack bool
	}{{"admin", true}, {"sales", false}} {
		t.Run(who.persona, func(t *testing.T) {
			t.Parallel() // each in a browser of its own
			b := newBrowser(t)
			form := formValues(b.signIn(app, "admin"))
			form.Set("telephone", "+41 44 668 18 00")
			time.Sleep(2200 * time.Millisecond) // the session has expired
			resp, _ := b.post(app.url+"save", form)
			if !strings.HasPrefix(resp.Request.URL.String(), app.dev.idpURL) {
				t.Fatalf("POST into an expired session went to %s", resp.Request.URL)
			}
			_, doc := b.signInAt(app, resp.Request.URL.String(), who.persona)
			got := doc.Find(`input[name="telephone"]`).AttrOr("value", "") == "+41 44 668 18 00"
			if got != who.getsBack {
				t.Errorf("%s signing in after Ada's session expired: gets her typed values %v, want %v", who.persona, got, who.getsBack)
			}
		})
	}
}

// A request with a 256 KB header is refused with 431 before the app reads it all.
func TestHugeHeadersAreRefused(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	req, _ := http.NewRequest(http.MethodGet, app.url+"healthz", nil)
	req.Header.Set("X-Filler", strings.Repeat("a", 256<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("256 KB header: %d, want 431", resp.StatusCode)
	}
}

// /readyz asks the session store to write, and fails when Redis refuses writes (out of memory)
// although it still answers PING.
func TestReadinessFailsWhenRedisCannotWrite(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	app := startApp(t, "--session-store", "redis", "--redis-url", srv.URL)
	if status, body := getReadyz(t, app); status != http.StatusOK {
		t.Fatalf("readyz before: %d\n%s", status, body)
	}
	rdb := srv.Client(t)
	ctx := context.Background()
	if err := rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if status, body := getReadyz(t, app); status != http.StatusServiceUnavailable || !strings.Contains(body, "session store: not ready") {
		t.Errorf("readyz with Redis out of memory: %d\n%s", status, body)
	}
}

// /readyz checks the sign-in provider again after the first discovery, and lists only checks
// that can fail.
func TestReadinessNoticesTheSignInProviderGoingAway(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	status, body := getReadyz(t, app)
	if status != http.StatusOK {
		t.Fatalf("readyz before: %d\n%s", status, body)
	}
	if strings.Contains(body, "configuration") {
		t.Errorf("readyz lists a check that cannot fail:\n%s", body)
	}
	stopSignInProvider(t, app)
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body = getReadyz(t, app)
		if status == http.StatusServiceUnavailable && strings.Contains(body, "sign-in provider: not ready") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz 15 s after the sign-in provider went away: %d\n%s", status, body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func getReadyz(t *testing.T, app *testApp) (int, string) {
	t.Helper()
	resp, err := http.Get(app.url + "readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stopSignInProvider makes the development sign-in provider stop answering.
func stopSignInProvider(t *testing.T, app *testApp) {
	t.Helper()
	app.dev.StopProvider()
}

// The CSRF token counts only from the form body or the htmx header, never from the URL (where
// it would end up in logs, history and Referer headers).
func TestCSRFTokenInTheQueryStringIsRefused(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	token := form.Get("_csrf")
	form.Del("_csrf")
	form.Set("telephone", "+33 1 23 45 67 89")
	resp, _ := b.post(app.url+"save?_csrf="+url.QueryEscape(token), form)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with the CSRF token in the query string: %d, want 403", resp.StatusCode)
	}
	if _, tel, _ := app.dev.emu.Profile(devidp.TenantID); tel == "+33 1 23 45 67 89" {
		t.Error("the save went through")
	}
}

// With Redis down, a save without JavaScript shows the form again with what was typed.
func TestSessionStoreDownKeepsTypedValuesWithoutJavaScript(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	app := startApp(t, "--session-store", "redis", "--redis-url", srv.URL)
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	form.Set("email", "helpdesk@contoso-partner.example")
	srv.Stop()
	resp, doc := b.post(app.url+"save", form)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("save with Redis down: %d, want 503", resp.StatusCode)
	}
	if got := doc.Find(`input[name="email"]`).AttrOr("value", ""); got != "helpdesk@contoso-partner.example" {
		t.Errorf("the form with Redis down shows email %q, want what was typed:\n%s", got, text(doc.Find("main")))
	}
}

// When the sign-in provider does not answer a token refresh, the person is told so, and the
// form keeps what they typed.
func TestSignInProviderDownDuringRefreshIsExplained(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--dev-token-lifetime", "2s")
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	form.Set("telephone", "+41 44 668 18 00")
	time.Sleep(1600 * time.Millisecond) // past three quarters of the token's life: a refresh is due
	stopSignInProvider(t, app)
	resp, doc := b.post(app.url+"save", form, "HX-Request", "true")
	msg := text(doc.Find("#notice"))
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(msg, "Microsoft sign-in is not answering") {
		t.Errorf("save with the sign-in provider down: %d %q", resp.StatusCode, msg)
	}
	if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != "+41 44 668 18 00" {
		t.Errorf("typed telephone after the failed refresh: %q", got)
	}
}
