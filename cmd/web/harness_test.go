package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"pcsupport/internal/testkit"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// testApp is the whole app in --dev mode, started in-process on a free port.
type testApp struct {
	*app
	url  string // the public URL, ending in "/"
	logs *testkit.SyncBuffer
}

// startApp runs the app as `web --dev` with the given extra flags, on a free port and a temporary
// data directory, until the test ends.
func startApp(t testing.TB, extra ...string) *testApp {
	t.Helper()
	return runApp(t, append([]string{"--dev", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "debug"}, extra...)...)
}

// runApp runs the app with exactly these flags (production mode unless --dev is among them).
func runApp(t testing.TB, args ...string) *testApp {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *app, 1)
	done := make(chan error, 1)
	logs := &testkit.SyncBuffer{}
	go func() { done <- run(ctx, args, func(string) string { return "" }, io.Discard, logs, ready) }()
	select {
	case a := <-ready:
		t.Cleanup(func() {
			cancel()
			<-done
			if t.Failed() {
				t.Logf("app log:\n%s", logs.String())
			}
		})
		return &testApp{app: a, url: a.cfg.PublicURL.String(), logs: logs}
	case err := <-done:
		cancel()
		t.Fatalf("app did not start: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("app did not start in time\n%s", logs.String())
	}
	return nil
}

// browser is a cookie-keeping HTTP client, as a person's browser would be without JavaScript.
type browser struct {
	t      testing.TB
	client *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) get(u string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	return resp, readDoc(b.t, resp)
}

func (b *browser) post(u string, form url.Values, headers ...string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", u, err)
	}
	return resp, readDoc(b.t, resp)
}

func readDoc(t testing.TB, resp *http.Response) *goquery.Document {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

// signIn goes through the real OpenID Connect dance from the app's home page.
func (b *browser) signIn(app *testApp, persona string) *goquery.Document {
	b.t.Helper()
	_, doc := b.signInAt(app, app.url, persona)
	return doc
}

// signInAt opens start signed out: the app sends the browser to the dev provider, the person
// picks a persona, the provider sends them back with a code, and the app sends them on.
func (b *browser) signInAt(app *testApp, start, persona string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	resp, doc := b.get(start)
	form := doc.Find("form").First()
	action, ok := form.Attr("action")
	if !ok || !strings.HasPrefix(resp.Request.URL.String(), app.dev.idpURL) {
		b.t.Fatalf("expected the dev sign-in page, got %.200s:\n%.2000s", resp.Request.URL, html(doc))
	}
	values := url.Values{"persona": {persona}}
	if persona == "cancel" {
		values = url.Values{"cancel": {"cancel"}}
	}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		values.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	target, _ := resp.Request.URL.Parse(action)
	resp, doc = b.post(target.String(), values)
	if !strings.HasPrefix(resp.Request.URL.String(), app.url) {
		b.t.Fatalf("after sign-in: %d at %.200s:\n%.2000s", resp.StatusCode, resp.Request.URL, html(doc))
	}
	return resp, doc
}

// formValues reads the profile form as a browser would submit it.
func formValues(doc *goquery.Document) url.Values {
	v := url.Values{}
	doc.Find("#profile form input").Each(func(_ int, s *goquery.Selection) {
		v.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	return v
}

func html(doc *goquery.Document) string {
	h, _ := doc.Html()
	return h
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }
