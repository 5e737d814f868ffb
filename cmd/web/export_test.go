package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/devidp"
	"pcsupport/internal/history"
	"pcsupport/internal/history/pgtest"
	"pcsupport/internal/support"
)

// Downloads nobody reads stall nobody else (issue 19): with a long history, one person starts
// four CSV downloads and a colleague one, over links with a 4 KB receive window, and never
// read them. Meanwhile a person of another partner opens the form (after a change made
// elsewhere, which the form's read records), saves, opens the history page, and /readyz is
// asked: each answers at once, with the history working.
func TestHistoryExportsNobodyReadsStallNobodyElse(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"SQLite", "PostgreSQL"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var args []string
			if backend == "PostgreSQL" {
				args = []string{"--database-url", pgtest.NewDatabase(t)}
			}
			app := startApp(t, args...)
			fillLongHistory(t, app, devidp.TenantID, 4000)
			olga := newBrowser(t)
			olga.signIn(app, "other")
			ada, sam := newBrowser(t), newBrowser(t)
			ada.signIn(app, "admin")
			sam.signIn(app, "sales")
			for _, b := range []*browser{ada, ada, ada, ada, sam} {
				startUnreadExport(t, app, b)
			}

			_, tel, web := app.dev.emu.Profile(devidp.OtherTenantID)
			app.dev.emu.SetProfile(devidp.OtherTenantID, "desk@fabrikam-partner.example", tel, web)
			doc := timed(t, olga, "the form page", http.MethodGet, app.url, nil, "Changed outside this app")
			form := formValues(doc)
			form.Set("telephone", "+44 20 7946 0123")
			timed(t, olga, "a save", http.MethodPost, app.url+"save", form, "Saved.")
			timed(t, olga, "the history page", http.MethodGet, app.url+"history", nil, "desk@fabrikam-partner.example")
			timed(t, olga, "/readyz", http.MethodGet, app.url+"readyz", nil, "history store: ok")
		})
	}
}

// fillLongHistory gives tenant n entries through a store of its own on the app's database,
// each with values of the longest the form allows: about 1 KB of CSV each, megabytes in all,
// more than the connections' buffers hold.
func fillLongHistory(t *testing.T, app *testApp, tenant string, n int) {
	t.Helper()
	ctx := context.Background()
	var store history.Store
	var err error
	if app.cfg.DatabaseURL != "" {
		store, err = history.OpenPostgres(ctx, app.cfg.DatabaseURL)
	} else {
		store, err = history.OpenSQLite(ctx, filepath.Join(app.cfg.DataDir, history.File))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	at := time.Now().Add(-time.Hour)
	for i := range n {
		c := support.Contact{
			Email:     fmt.Sprintf("%06d-%s@contoso-partner.example", i, strings.Repeat("s", 220)),
			Telephone: fmt.Sprintf("+33 1 23 45 %02d %02d", i/100%100, i%100),
			Website:   fmt.Sprintf("https://contoso-partner.example/%06d/%s", i, strings.Repeat("w", 210)),
		}
		if err := store.Observe(ctx, tenant, c, at.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
}

// startUnreadExport asks for history.csv as b's person over a connection with a 4 KB receive
// window, reads the answer's head, and never reads on; the connection closes when the test
// ends.
func startUnreadExport(t *testing.T, app *testApp, b *browser) {
	t.Helper()
	u, _ := url.Parse(app.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.(*net.TCPConn).SetReadBuffer(4 << 10); err != nil {
		t.Fatal(err)
	}
	var cookies []string
	for _, c := range b.client.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	fmt.Fprintf(conn, "GET %shistory.csv HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n", u.Path, u.Host, strings.Join(cookies, "; "))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 4<<10), nil)
	if err != nil {
		t.Logf("an unread export's head did not come: %v", err) // it waits for the database
		return
	}
	t.Logf("an unread export: %d", resp.StatusCode)
}

// timed sends b's request (a form post when form is not nil, as htmx does) and fails unless it
// is answered within 2 s, with 200 and a page holding want.
func timed(t *testing.T, b *browser, what, method, u string, form url.Values, want string) *goquery.Document {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequestWithContext(ctx, method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
	}
	start := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s with downloads nobody reads: no answer after %v: %v", what, time.Since(start).Round(time.Millisecond), err)
	}
	doc := readDoc(t, resp)
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK || !strings.Contains(doc.Text(), want) {
		t.Errorf("%s with downloads nobody reads: %d after %v, without %q:\n%.1000s", what, resp.StatusCode, took.Round(time.Millisecond), want, text(doc.Selection))
	}
	if took > 2*time.Second {
		t.Errorf("%s with downloads nobody reads took %v; want under 2 s", what, took.Round(time.Millisecond))
	}
	return doc
}
