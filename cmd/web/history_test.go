package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/devidp"
	"pcsupport/internal/history"
	"pcsupport/internal/history/pgtest"
)

// historyRows reads the history page as a person does: per entry, its kind in words, who, and
// what changed.
func historyRows(doc *goquery.Document) []string {
	var rows []string
	doc.Find("#history > li").Each(func(_ int, li *goquery.Selection) {
		row := text(li.Find("p").First())
		switch {
		case strings.HasPrefix(row, "Saved in this app by "):
			row = "saved by " + strings.TrimPrefix(row, "Saved in this app by ")
		case strings.HasPrefix(row, "Changed outside this app"):
			row = "outside"
		case strings.HasPrefix(row, "First recorded"):
			row = "first"
		}
		li.Find("dl.space-y-2 > div").Each(func(_ int, d *goquery.Selection) {
			row += fmt.Sprintf("; %s %s → %s", text(d.Find("dt")), text(d.Find("dd").First().Contents().Last()), text(d.Find("dd").Last().Contents().Last()))
		})
		rows = append(rows, row)
	})
	return rows
}

// download fetches an export as the browser would, checking that it is an attachment.
func (b *browser) download(u string) []byte {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; ") {
		b.t.Fatalf("GET %s: %d %s\n%.500s", u, resp.StatusCode, resp.Header.Get("Content-Disposition"), body)
	}
	return body
}

func csvRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("CSV export: %v\n%s", err, b)
	}
	return rows
}

// The story of issue 10 with `web --dev` and nothing set: two sessions save, a change is made
// behind the app's back, and the line under the form, the history page and both exports tell
// exactly that; a person of another partner tenant sees none of it, whatever the URL; and no
// token, secret or cookie reaches the history.
func TestHistoryWholeStory(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--log-format", "json")
	first, second := newBrowser(t), newBrowser(t)
	doc := first.signIn(app, "admin")
	second.signIn(app, "admin")

	form := formValues(doc)
	form.Set("telephone", "+33 1 11 11 11 11")
	if resp, doc := first.post(app.url+"save", form); !strings.Contains(text(doc.Find(`#notice[role="status"]`)), "Saved") {
		t.Fatalf("first save: %d %s", resp.StatusCode, text(doc.Find("main")))
	}
	_, doc = second.get(app.url)
	form = formValues(doc)
	form.Set("website", "www.ada-marker.example")
	_, frag := second.post(app.url+"save", form, "HX-Request", "true")
	if got := text(frag.Find("#last-change")); !strings.HasPrefix(got, "Last changed just now (") || !strings.Contains(got, "by Ada Admin.") {
		t.Errorf("line under the form after the second save: %q", got)
	}
	app.dev.emu.SetProfile(devidp.TenantID, "desk@contoso-partner.example", "+33 1 11 11 11 11", "www.ada-marker.example")
	_, doc = first.get(app.url)
	if got := text(doc.Find("#last-change")); !strings.HasPrefix(got, "Changed outside this app; noticed on ") {
		t.Errorf("line under the form after a change made elsewhere: %q", got)
	}
	second.get(app.url) // noticed again by another session: still one entry

	_, doc = second.get(app.url + "history")
	want := []string{
		"outside; Email support@contoso-partner.example → desk@contoso-partner.example",
		"saved by Ada Admin (ada.admin@contoso-partner.example); Website www.contoso-partner.example → www.ada-marker.example",
		"saved by Ada Admin (ada.admin@contoso-partner.example); Telephone 4255550100 → +33 1 11 11 11 11",
		"first",
	}
	if got := historyRows(doc); !slices.Equal(got, want) {
		t.Errorf("history page:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	checkSavesMatchTheAuditTrail(t, app, doc)

	rows := csvRows(t, second.download(app.url+"history.csv"))
	var kinds []string
	for _, r := range rows[1:] {
		kinds = append(kinds, r[1])
	}
	var export struct{ Entries []struct{ Kind string } }
	if err := json.Unmarshal(second.download(app.url+"history.json"), &export); err != nil {
		t.Fatal(err)
	}
	var jsonKinds []string
	for _, e := range export.Entries {
		jsonKinds = append(jsonKinds, e.Kind)
	}
	if want := []string{"outside", "saved", "saved", "baseline"}; !slices.Equal(kinds, want) || !slices.Equal(jsonKinds, want) {
		t.Errorf("exports: CSV %v, JSON %v, want %v", kinds, jsonKinds, want)
	}

	olga := checkAnotherTenantSeesNothing(t, app)
	checkNoSecretsInTheHistory(t, app, first, second, olga)
}

// checkSavesMatchTheAuditTrail: each save on the page carries the ids of its audit record.
func checkSavesMatchTheAuditTrail(t *testing.T, app *testApp, doc *goquery.Document) {
	t.Helper()
	var audited []string
	for _, line := range strings.Split(app.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["audit"] == "support_profile_save" && rec["outcome"] == "saved" {
			audited = append(audited, fmt.Sprintf("Correlation id %s Request id %s", rec["correlation_id"], rec["ms_request_id"]))
		}
	}
	var shown []string
	doc.Find("#history > li dl.text-xs").Each(func(_ int, dl *goquery.Selection) {
		var facts []string
		dl.Children().Each(func(_ int, s *goquery.Selection) { facts = append(facts, text(s)) })
		shown = append(shown, strings.Join(facts, " "))
	})
	slices.Reverse(shown)
	if len(audited) != 2 || !slices.Equal(shown, audited) {
		t.Errorf("ids on the page %q, in the audit trail %q", shown, audited)
	}
}

// checkAnotherTenantSeesNothing: Olga, of Fabrikam, opens the history first (empty), then saves
// her own; with any cursor, and in the exports, nothing of Contoso's shows.
func checkAnotherTenantSeesNothing(t *testing.T, app *testApp) *browser {
	t.Helper()
	olga := newBrowser(t)
	_, doc := olga.signInAt(app, app.url+"history", "other")
	if rows := historyRows(doc); len(rows) != 0 || !strings.Contains(text(doc.Find("#history-empty")), "Nothing has been recorded yet") {
		t.Errorf("Olga's history before she opened the form: %q %q", rows, text(doc.Find("#history-empty")))
	}
	_, doc = olga.get(app.url)
	form := formValues(doc)
	form.Set("telephone", "+44 20 7946 0001")
	olga.post(app.url+"save", form)
	_, doc = olga.get(app.url + "history")
	want := []string{"saved by Olga Other (olga.other@fabrikam-partner.example); Telephone +44 20 7946 0000 → +44 20 7946 0001", "first"}
	if got := historyRows(doc); !slices.Equal(got, want) {
		t.Errorf("Olga's history: %q, want %q", got, want)
	}
	pages := []string{"history.csv", "history.json", "history?tenant=" + devidp.TenantID}
	for id := range 12 {
		pages = append(pages, fmt.Sprintf("history?before=%d", id), fmt.Sprintf("history?after=%d", id))
	}
	for _, p := range pages {
		resp, err := olga.client.Get(app.url + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, contoso := range []string{"contoso", "Ada", "ada-marker", "11 11 11"} {
			if bytes.Contains(body, []byte(contoso)) {
				t.Errorf("Olga's %s shows %q of Contoso", p, contoso)
			}
		}
	}
	return olga
}

// checkNoSecretsInTheHistory scans the history's file and the exports for what must never be
// kept there: tokens (a JWT starts with eyJ), the client secret, cookies.
func checkNoSecretsInTheHistory(t *testing.T, app *testApp, people ...*browser) {
	t.Helper()
	var kept []byte
	files, _ := filepath.Glob(filepath.Join(app.cfg.DataDir, history.File+"*")) // with -wal and -shm
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, b...)
	}
	if !bytes.Contains(kept, []byte("ada-marker")) {
		t.Fatalf("the scan reads the wrong files: no saved value in %v", files)
	}
	for _, b := range people {
		kept = append(kept, b.download(app.url+"history.csv")...)
		kept = append(kept, b.download(app.url+"history.json")...)
	}
	secret, _ := app.cfg.ClientCredential.(clientauth.Secret)
	secrets := []string{string(secret), "eyJ", "Bearer", "refresh_token", "access_token"}
	u, _ := url.Parse(app.url)
	for _, b := range people {
		for _, c := range b.client.Jar.Cookies(u) {
			secrets = append(secrets, c.Value)
		}
	}
	for _, s := range secrets {
		if s != "" && bytes.Contains(kept, []byte(s)) {
			t.Errorf("the history holds a token, secret or cookie (%.12q...)", s)
		}
	}
}

// With the history's database unreachable (from start) the app serves and saves; the save says
// its history entry could not be written, the audit record is written, the failures are
// counted, /readyz names the history store and stays 200, and the history page says it cannot
// be read.
func TestHistoryStoreDownTheAppKeepsWorking(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--log-format", "json", "--database-url", "postgres://pcs@127.0.0.1:1/history?connect_timeout=1&sslmode=disable")
	status, body := getReadyz(t, app)
	if status != http.StatusOK || !strings.Contains(body, "history store: failing") {
		t.Errorf("readyz with the history store down: %d\n%s", status, body)
	}
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	if got := text(doc.Find("#last-change")); !strings.Contains(got, "The change history cannot be read right now.") {
		t.Errorf("line under the form: %q", got)
	}
	form := formValues(doc)
	form.Set("telephone", "+33 1 22 22 22 22")
	resp, doc := b.post(app.url+"save", form)
	notice := text(doc.Find(`#notice[role="status"]`))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(notice, "Saved.") || !strings.Contains(notice, "could not record this save") {
		t.Errorf("save with the history down: %d %q", resp.StatusCode, notice)
	}
	if _, tel, _ := app.dev.emu.Profile(devidp.TenantID); tel != "+33 1 22 22 22 22" {
		t.Errorf("Partner Center holds %q", tel)
	}
	if !strings.Contains(app.logs.String(), `"audit":"support_profile_save"`) || !strings.Contains(app.logs.String(), `"outcome":"saved"`) {
		t.Error("no audit record of the save")
	}
	m := scrape(t, app.url+"metrics")
	if m[`pcsupport_history_write_failures_total{write="save"}`] != 1 || m[`pcsupport_history_write_failures_total{write="observe"}`] < 2 {
		t.Errorf("failed history writes counted: save %v, observe %v", m[`pcsupport_history_write_failures_total{write="save"}`], m[`pcsupport_history_write_failures_total{write="observe"}`])
	}
	resp, doc = b.get(app.url + "history")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(text(doc.Find("#notice")), "The change history cannot be read right now.") {
		t.Errorf("history page with the store down: %d %q", resp.StatusCode, text(doc.Find("main")))
	}
}

// Against PostgreSQL, two replicas share the history: a save through one is in the history read
// through the other, and a change made elsewhere that both notice at once is recorded once.
func TestHistoryOnPostgresSharedByReplicas(t *testing.T) {
	t.Parallel()
	database := pgtest.NewDatabase(t)
	lb := startReplicaProxy(t)
	idp, emu := startProductionStandIns(t, lb.URL+"/auth/callback", time.Hour)
	args := []string{
		"--oidc-issuer", idp.URL, "--client-id", "pcsupport", "--client-secret", idp.secret,
		"--session-keys", sessionKeys(), "--partner-center-url", emu.URL, "--public-url", lb.URL + "/",
		"--database-url", database, "--listen", "127.0.0.1:0",
	}
	replicas := []*replica{startReplica(t, args...), startReplica(t, args...)}
	site := &testApp{app: &app{dev: &devStandIns{idpURL: idp.URL}}, url: lb.URL + "/"}
	people := []*browser{newBrowser(t), newBrowser(t)}
	for i, b := range people {
		lb.route(i, replicas[i])
		lb.use(i)
		b.signInAt(site, site.url, "admin") // each signs in through a replica of their own (files hold the sessions)
	}
	// Cookies go by host, not port: each person's session works on their replica's own address.
	at := func(i int, path string) string { return "http://" + replicas[i].listenAddr() + "/" + path }

	_, doc := people[0].get(at(0, ""))
	form := formValues(doc)
	form.Set("telephone", "+49 30 1234567")
	if resp, _ := people[0].post(at(0, "save"), form, "HX-Request", "true"); resp.StatusCode != http.StatusOK {
		t.Fatalf("save through replica 1: %d", resp.StatusCode)
	}
	emu.SetProfile(devidp.TenantID, "desk@contoso-partner.example", "+49 30 1234567", "www.contoso-partner.example")
	var wg sync.WaitGroup
	for i, b := range people {
		wg.Go(func() { b.get(at(i, "")) })
	}
	wg.Wait()

	_, doc = people[1].get(at(1, "history"))
	want := []string{
		"outside; Email support@contoso-partner.example → desk@contoso-partner.example",
		"saved by Ada Admin (ada.admin@contoso-partner.example); Telephone 4255550100 → +49 30 1234567",
		"first",
	}
	if got := historyRows(doc); !slices.Equal(got, want) {
		t.Errorf("history through replica 2:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	resp, err := http.Get(at(1, "readyz"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "history store: ok") {
		t.Errorf("readyz on PostgreSQL: %d\n%s", resp.StatusCode, body)
	}
}

// A PostgreSQL that is not there when the app starts does not stop it; the history is kept from
// when the database answers, without a restart.
func TestHistoryPostgresReachedAfterStart(t *testing.T) {
	t.Parallel()
	existing := pgtest.NewDatabase(t)
	u, _ := url.Parse(existing)
	u.Path += "_later"
	app := startApp(t, "--database-url", u.String())
	if status, body := getReadyz(t, app); status != http.StatusOK || !strings.Contains(body, "history store: failing") {
		t.Fatalf("readyz before the database exists: %d\n%s", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, existing)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+strings.TrimPrefix(u.Path, "/")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, body := getReadyz(t, app); strings.Contains(body, "history store: ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the history store was not reached within 10 s of the database appearing")
		}
	}
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	form.Set("telephone", "+49 30 7654321")
	b.post(app.url+"save", form)
	if _, doc := b.get(app.url + "history"); len(historyRows(doc)) != 2 {
		t.Errorf("history after the database appeared: %q", historyRows(doc))
	}
}

// Under a path prefix, with the proxy stripping it: the link under the form, the history page's
// links and the exports all live under the prefix.
func TestHistoryUnderAPrefix(t *testing.T) {
	t.Parallel()
	app, _ := startUnderPrefix(t, true)
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	link := doc.Find("#last-change a").AttrOr("href", "")
	if link != testPrefix+"history" {
		t.Fatalf("link under the form: %q", link)
	}
	form := formValues(doc)
	form.Set("telephone", "+33 1 33 33 33 33")
	b.post(app.url+"save", form)
	resp, doc := b.get(resolve(app.url, link))
	if resp.StatusCode != http.StatusOK || len(historyRows(doc)) != 2 {
		t.Fatalf("history under the prefix: %d %q", resp.StatusCode, historyRows(doc))
	}
	checkURLsKeepPrefix(t, "history page", doc, app.url)
	for _, sel := range []string{`a[href$="history.csv"]`, `a[href$="history.json"]`} {
		if body := b.download(resolve(app.url, doc.Find(sel).AttrOr("href", ""))); !bytes.Contains(body, []byte("+33 1 33 33 33 33")) {
			t.Errorf("%s under the prefix lacks the save:\n%s", sel, body)
		}
	}
}
