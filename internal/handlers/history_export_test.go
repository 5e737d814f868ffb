package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/support"
)

// peopleByHeader signs in whoever the request's X-Person header names: several people of one
// app at once (fakeAuth.people).
type peopleByHeader map[string]auth.User

// exportApp is the handlers behind a real server, as cmd/web runs them: exports meet the
// connection's deadlines and buffers.
type exportApp struct {
	*liveTestbed
	h *Handlers
}

// newExportApp starts the handlers for people on store; configure, when given, sets the
// handlers and the server up before it starts.
func newExportApp(t *testing.T, store History, people peopleByHeader, configure func(*Handlers, *http.Server)) *exportApp {
	t.Helper()
	tb := newTestbed(t, func(o *Options) { o.History = store })
	tb.auth.people = people
	live := tb.serve(func(srv *httptest.Server) {
		// A small send buffer, so that what a reader has not taken holds the server's writes up
		// after a few KB, as it does after a few MB on a real link.
		srv.Listener = smallSendBuffers{srv.Listener}
		if configure != nil {
			configure(tb.h, srv.Config)
		}
	})
	return &exportApp{liveTestbed: live, h: tb.h}
}

type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// getAs asks for path as person, with the header pairs given.
func (a *exportApp) getAs(person, path string, header ...string) (*http.Response, *goquery.Document) {
	a.t.Helper()
	return a.get(path, append([]string{"X-Person", person}, header...)...)
}

// status asks for path as person and returns the answer's status (0 when none came), reading
// the whole body; for goroutines, where a test cannot fail.
func (a *exportApp) status(person, path string) int {
	req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
	req.Header.Set("X-Person", person)
	resp, err := a.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// heldExports is a history whose exports stop after their first entry, as an answer stops on a
// link that takes no more, until the test lets them go on.
type heldExports struct {
	failingHistory
	started chan string // the tenant of each export the handlers began
	release chan struct{}
}

func newHeldExports() *heldExports {
	return &heldExports{started: make(chan string, 16), release: make(chan struct{})}
}

func (h *heldExports) Export(ctx context.Context, tenantID string, _ history.Filter, fn func(history.Entry) error) error {
	if err := fn(history.Entry{ID: 1, TenantID: tenantID, Kind: history.KindBaseline, At: time.Now()}); err != nil {
		return err
	}
	h.started <- tenantID
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// holdExport starts an export as person and returns once the store was asked for it, with what
// its answer will be.
func (a *exportApp) holdExport(held *heldExports, person string) <-chan int {
	a.t.Helper()
	status := make(chan int, 1)
	go func() { status <- a.status(person, "history.csv") }()
	select {
	case <-held.started:
	case s := <-status:
		a.t.Fatalf("%s's export answered %d before it reached the history", person, s)
	case <-time.After(5 * time.Second):
		a.t.Fatalf("%s's export did not reach the history in 5 s", person)
	}
	return status
}

// checkRefused checks a refused export: 429, Retry-After, and a page saying why in the
// person's language, with the same wait.
func checkRefused(t *testing.T, resp *http.Response, doc *goquery.Document, says string) {
	t.Helper()
	wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	page := text(doc.Find("main"))
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || wait <= 0 {
		t.Errorf("refused export: %d, Retry-After %q; want 429 and a wait in seconds\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), page)
	}
	if !strings.Contains(page, says) || !regexp.MustCompile(`\b`+strconv.Itoa(wait)+`[ \x{00a0}]`).MatchString(page) {
		t.Errorf("refused export's page:\n%s\nwant it to say %q and the %d seconds to wait", page, says, wait)
	}
}

// The exports hold the page's entries: CSV (formula-proof) and JSON, as attachments named with
// the date.
func TestHistoryExports(t *testing.T) {
	evil := ada
	evil.Name = `=HYPERLINK("http://evil.example","x")`
	a := newHistoryApp(t, evil, openSQLiteHistory(t))
	a.save(map[string]string{"telephone": "+33 1 23 45 67 89"})
	a.tb.pc.set("-help@contoso.example", "+33 1 23 45 67 89", "www.contoso.example")
	a.get("")
	_, doc := a.get("history")
	page := historyEntries(doc)
	if len(page) != 3 {
		t.Fatalf("%d entries on the page", len(page))
	}
	if doc.Find(`a[href="/history.csv"]`).Length() != 1 || doc.Find(`a[href="/history.json"]`).Length() != 1 {
		t.Error("the page has no links to the exports")
	}

	today := time.Now().UTC().Format("2006-01-02")
	download := func(path, contentType string) []byte {
		resp, err := a.client.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != contentType ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="support-profile-history-`+today+path[strings.Index(path, "."):]+`"` {
			t.Errorf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
		return body
	}

	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(download("history.csv", "text/csv; charset=utf-8"), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != "when,kind,who_name,who_username,email_before,email_after,telephone_before,telephone_after,website_before,website_after,correlation_id,request_id,changed_fields" ||
		rows[1][12] != "email" || rows[2][12] != "telephone" || rows[3][12] != "" {
		t.Fatalf("CSV: %q", rows)
	}
	var file struct {
		TenantID string `json:"tenant_id"`
		Entries  []struct {
			At   string `json:"at"`
			Kind string `json:"kind"`
			By   *struct {
				Name, Username string
				ObjectID       string `json:"object_id"`
			}
			Before *struct{ Email, Telephone, Website string }
			After  struct{ Email, Telephone, Website string }
			Corr   string `json:"correlation_id"`
			Req    string `json:"request_id"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(download("history.json", "application/json"), &file); err != nil {
		t.Fatal(err)
	}
	if file.TenantID != "tenant-a" || len(file.Entries) != 3 {
		t.Fatalf("JSON: %+v", file)
	}
	wantKinds := []string{"outside", "saved", "baseline"}
	for i, e := range file.Entries {
		row := rows[i+1]
		if e.Kind != wantKinds[i] || row[1] != e.Kind || row[0] != e.At || e.At != page[i].Datetime {
			t.Errorf("entry %d: JSON %s at %s, CSV %s at %s, page at %s", i, e.Kind, e.At, row[1], row[0], page[i].Datetime)
		}
		if (e.Before == nil) != (e.Kind == "baseline") || (e.By == nil) != (e.Kind != "saved") {
			t.Errorf("entry %d (%s): before %v, by %v", i, e.Kind, e.Before, e.By)
		}
	}
	saved := file.Entries[1]
	if saved.By.Name != evil.Name || saved.By.ObjectID != "oid-ada" || saved.Before.Telephone != "4255550100" || saved.After.Telephone != "+33 1 23 45 67 89" ||
		!slices.Contains(page[1].Details, "Correlation id "+saved.Corr) || !slices.Contains(page[1].Details, "Request id "+saved.Req) {
		t.Errorf("JSON saved entry %+v does not match the page's %+v", saved, page[1])
	}
	// Values typed by people never start a cell with a formula character.
	want := [][]string{
		{"outside", "", "", "support@contoso.example", "'-help@contoso.example", "'+33 1 23 45 67 89", "'+33 1 23 45 67 89", "www.contoso.example", "www.contoso.example"},
		{"saved", `'=HYPERLINK("http://evil.example","x")`, "ada@contoso.example", "support@contoso.example", "support@contoso.example", "4255550100", "'+33 1 23 45 67 89", "www.contoso.example", "www.contoso.example"},
		{"baseline", "", "", "", "support@contoso.example", "", "4255550100", "", "www.contoso.example"},
	}
	for i, w := range want {
		if got := rows[i+1][1:10]; !slices.Equal(got, w) {
			t.Errorf("CSV row %d:\n got %q\nwant %q", i+1, got, w)
		}
	}
	if rows[2][10] != saved.Corr || rows[2][11] != saved.Req {
		t.Errorf("CSV ids %q, JSON %s / %s", rows[2][10:], saved.Corr, saved.Req)
	}
}

// A long export streams: flushed every so many entries, it still holds every entry once, in order.
func TestHistoryExportsStreamLongHistories(t *testing.T) {
	defer func(n int) { exportFlushEvery = n }(exportFlushEvery)
	exportFlushEvery = 4
	store := openSQLiteHistory(t)
	a := newHistoryApp(t, ada, store)
	for i := range 10 {
		c := support.Contact{Email: fmt.Sprintf("s%d@contoso.example", i), Telephone: "1", Website: "w.example"}
		if err := store.Observe(context.Background(), "tenant-a", c, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := a.client.Get(a.url + "history.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) != 11 || rows[1][5] != "s9@contoso.example" || rows[10][5] != "s0@contoso.example" {
		t.Errorf("CSV of 10 entries: %v %q", err, rows)
	}
	resp, err = a.client.Get(a.url + "history.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Entries []json.RawMessage }
	err = json.NewDecoder(resp.Body).Decode(&file)
	resp.Body.Close()
	if err != nil || len(file.Entries) != 10 {
		t.Errorf("JSON of 10 entries: %v, %d entries", err, len(file.Entries))
	}
}

// One download at a time per person: a second one while the first runs is refused with a clear
// answer, in the person's language; another person's goes ahead; once the first ends, the next
// is accepted.
func TestHistoryExportsOneAtATimePerPerson(t *testing.T) {
	held := newHeldExports()
	a := newExportApp(t, held, peopleByHeader{"ada": ada, "olga": olga}, nil)
	first := a.holdExport(held, "ada")

	resp, doc := a.getAs("ada", "history.json")
	checkRefused(t, resp, doc, "Your download of the change history is still under way.")
	resp, doc = a.getAs("ada", "history.csv", "Accept-Language", "fr-FR")
	checkRefused(t, resp, doc, "Votre téléchargement de l’historique des modifications est toujours en cours.")
	if page := doc.Find("main").Text(); !strings.Contains(page, "personne\u00a0:") {
		t.Errorf("French page without a no-break space before the colon:\n%s", page)
	}
	olgas := a.holdExport(held, "olga")

	close(held.release)
	if s, o := <-first, <-olgas; s != http.StatusOK || o != http.StatusOK {
		t.Errorf("the held exports answered %d and %d, want 200", s, o)
	}
	next := make(chan int, 1)
	go func() { next <- a.status("ada", "history.csv") }()
	select {
	case <-held.started:
		if s := <-next; s != http.StatusOK {
			t.Errorf("Ada's next export after the first ended: %d", s)
		}
	case s := <-next:
		t.Errorf("Ada's next export after the first ended: %d without reaching the history", s)
	}
}

// At most exportsInAll downloads at once, whoever starts them: one more is refused with a clear
// answer until one of them ends.
func TestHistoryExportsLimitedInAll(t *testing.T) {
	held := newHeldExports()
	people := peopleByHeader{}
	for i := range exportsInAll + 1 {
		u := ada
		u.Subject, u.ObjectID, u.Name = fmt.Sprintf("s-auditor-%d", i), fmt.Sprintf("oid-auditor-%d", i), fmt.Sprintf("Auditor %d", i)
		people[fmt.Sprint(i)] = u
	}
	a := newExportApp(t, held, people, nil)
	var running []<-chan int
	for i := range exportsInAll {
		running = append(running, a.holdExport(held, fmt.Sprint(i)))
	}
	resp, doc := a.getAs(fmt.Sprint(exportsInAll), "history.csv")
	checkRefused(t, resp, doc, "Too many downloads of the change history are under way right now.")
	resp, doc = a.getAs(fmt.Sprint(exportsInAll), "history.csv", "Accept-Language", "fr")
	checkRefused(t, resp, doc, "Trop de téléchargements de l’historique des modifications sont en cours.")

	close(held.release)
	for i, s := range running {
		if status := <-s; status != http.StatusOK {
			t.Errorf("held export %d answered %d", i, status)
		}
	}
	go a.status(fmt.Sprint(exportsInAll), "history.csv")
	select {
	case <-held.started:
	case <-time.After(5 * time.Second):
		t.Error("the refused person's export, once the others ended, did not reach the history in 5 s")
	}
}

// longHistory is a SQLite history holding n entries of tenant-a with values of the longest
// the form allows: about 1 KB of CSV each.
func longHistory(t *testing.T, n int) History {
	t.Helper()
	store := openSQLiteHistory(t)
	for i := range n {
		c := support.Contact{
			Email:     fmt.Sprintf("%06d-%s@contoso.example", i, strings.Repeat("s", 230)),
			Telephone: fmt.Sprintf("+33 1 23 45 %02d %02d", i/100%100, i%100),
			Website:   fmt.Sprintf("https://contoso.example/%06d/%s", i, strings.Repeat("w", 220)),
		}
		if err := store.Observe(context.Background(), "tenant-a", c, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// rawExport sends Ada's request for path over a connection of its own, whose reader the test
// paces. (Its receive buffer stays as it is: on loopback a receive buffer smaller than a
// segment, 64 KB there, stalls even a reader that reads, the window reopening only by a whole
// segment; the server's small send buffer holds the server up instead.)
func rawExport(t *testing.T, a *exportApp, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(a.url, "/"), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /%s HTTP/1.1\r\nHost: app.example\r\nX-Person: ada\r\n\r\n", path)
	return conn, bufio.NewReaderSize(conn, 4<<10)
}

// A long export over a slow link that keeps reading arrives whole, although it takes longer
// than the server gives an answer (its write timeout) and a request (its read timeout, which
// net/http lifts once the request is read).
func TestHistoryExportOverASlowLinkCompletes(t *testing.T) {
	const entries = 1000
	a := newExportApp(t, longHistory(t, entries), peopleByHeader{"ada": ada}, func(_ *Handlers, srv *http.Server) {
		srv.ReadTimeout, srv.WriteTimeout = time.Second, time.Second // as cmd/web's, shorter
	})
	conn, r := rawExport(t, a, "history.csv")
	start := time.Now()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 16 KB every 50 ms, about 300 KB/s: the megabyte takes three seconds.
	taken := 0
	slow := readerFunc(func(p []byte) (int, error) {
		if taken >= 16<<10 {
			time.Sleep(50 * time.Millisecond)
			taken = 0
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := resp.Body.Read(p[:min(len(p), 16<<10-taken)])
		taken += n
		return n, err
	})
	rows := 0
	cr := csv.NewReader(slow)
	for {
		if _, err = cr.Read(); err != nil {
			break
		}
		rows++
	}
	resp.Body.Close()
	took := time.Since(start)
	if err != io.EOF || rows != entries+1 {
		t.Fatalf("after %v: %d of %d rows, then %v", took.Round(time.Millisecond), rows, entries+1, err)
	}
	if took < 2*time.Second {
		t.Fatalf("the download took %v: the link was not slow enough to outlast the server's timeouts", took)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// A download its reader stopped taking is cut after the export's write deadline, not kept open
// as long as the server's write timeout (90 s in cmd/web): the connection, the export's slot and
// its goroutine go.
func TestHistoryExportNobodyReadsIsCut(t *testing.T) {
	a := newExportApp(t, longHistory(t, 1000), peopleByHeader{"ada": ada}, func(h *Handlers, srv *http.Server) {
		h.exportWriteDeadline = 300 * time.Millisecond
		srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 90*time.Second // as cmd/web's
	})
	conn, r := rawExport(t, a, "history.csv")
	time.Sleep(2 * time.Second) // nobody reads
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var netErr net.Error
	switch {
	case err == nil:
		t.Fatalf("a download nobody read for 2 s was not cut: all %d bytes came once its reader went on", len(got))
	case errors.As(err, &netErr) && netErr.Timeout():
		t.Fatalf("a download nobody read for 2 s was neither cut nor sent on: %d bytes, then %v", len(got), err)
	}
	if resp, _ := a.getAs("ada", "history.json"); resp.StatusCode != http.StatusOK {
		t.Errorf("the next download once the stalled one was cut: %d", resp.StatusCode)
	}
}
