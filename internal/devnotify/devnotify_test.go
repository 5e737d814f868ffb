package devnotify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devnotify"
	"pcsupport/internal/notify"
	"pcsupport/internal/support"
)

func change(id int64) notify.Notification {
	at := time.Now().UTC().Truncate(time.Millisecond)
	return notify.Notification{ID: notify.NotificationID(id, at), EntryID: id, TenantID: "tenant-1", Company: "Contoso <script>alert(1)</script>",
		Kind: notify.KindSaved, By: notify.Person{Name: "Adèle", Username: "adele@contoso.example"}, At: at,
		Before: support.Contact{Email: "old@contoso.example"}, After: support.Contact{Email: "new@contoso.example"},
		Link: notify.EntryLink("http://127.0.0.1:8080/", id)}
}

func messages(t *testing.T, base string) []devnotify.Message {
	t.Helper()
	resp, err := http.Get(base + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []devnotify.Message
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func post(t *testing.T, url string, body []byte, h http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The app's Sender, pointed at the receiver's URLs, gets its three messages through, and the
// receiver says the signed one verifies and the others are not signed, as their services expect.
func TestTheAppsMessagesArriveAndVerify(t *testing.T) {
	secret := notify.NewSecret()
	rec := devnotify.New(secret)
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	receivers, problems := notify.ParseReceivers(rec.URLs(srv.URL + "/"))
	if len(problems) > 0 || len(receivers) != 3 {
		t.Fatalf("URLs(%s) = %q: %v", srv.URL, rec.URLs(srv.URL), problems)
	}
	outbox := &notify.MemoryOutbox{}
	n := change(42)
	outbox.Enqueue(n, notify.Keys(receivers), n.At)
	s, err := notify.New(notify.Options{Outbox: outbox, Receivers: receivers, Secret: secret, PollEvery: time.Millisecond,
		Link: func(id int64) string { return notify.EntryLink("http://127.0.0.1:8080/", id) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for notify.Summarize(outbox.States(42)) != notify.SummaryDelivered {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %+v", outbox.States(42))
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done

	got := map[string]devnotify.Message{}
	for _, m := range messages(t, srv.URL) {
		got[m.Format] = m
	}
	if m := got["standard"]; !m.Verified || m.Signature != "verifies" || m.ID != n.ID || m.Status != http.StatusNoContent {
		t.Errorf("standard: %+v", m)
	}
	if m := got["teams"]; m.Verified || !strings.HasPrefix(m.Signature, "not signed") || m.Status != http.StatusAccepted || m.Problem != "" {
		t.Errorf("teams: %+v", m)
	}
	if m := got["slack"]; m.Verified || !strings.HasPrefix(m.Signature, "not signed") || m.Status != http.StatusOK || m.Problem != "" {
		t.Errorf("slack: %+v", m)
	}
	for f, m := range got {
		if !strings.Contains(m.Body, "new@contoso.example") || !strings.Contains(m.Body, "\n  ") {
			t.Errorf("%s: body not kept pretty-printed:\n%s", f, m.Body)
		}
	}
}

// A message signed with another secret, or tampered with, does not verify: the page says so and
// the receiver refuses it as a real one would.
func TestABadSignatureShows(t *testing.T) {
	secret := notify.NewSecret()
	rec := devnotify.New(secret)
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	body, h, _ := notify.StandardBody(change(1), notify.NewSecret(), time.Now())
	if status := post(t, srv.URL+"/standard", body, h); status != http.StatusUnauthorized {
		t.Errorf("another secret's message answered %d", status)
	}
	body, h, _ = notify.StandardBody(change(2), secret, time.Now())
	if status := post(t, srv.URL+"/standard", append(body, ' '), h); status != http.StatusUnauthorized {
		t.Errorf("a tampered message answered %d", status)
	}
	body, h, _ = notify.StandardBody(change(3), secret, time.Now().Add(-10*time.Minute))
	if status := post(t, srv.URL+"/standard", body, h); status != http.StatusUnauthorized {
		t.Errorf("a ten-minute-old message answered %d", status)
	}
	for _, m := range messages(t, srv.URL) {
		if m.Verified {
			t.Errorf("verified: %+v", m)
		}
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(page), "does not verify"); n != 3 {
		t.Errorf("the page says %d times that a signature does not verify, want 3", n)
	}
	if strings.Contains(string(page), secret.Text()) || strings.Contains(string(page), "<script>alert") {
		t.Error("the page shows the secret, or a body unescaped")
	}
	if !strings.Contains(string(page), "Contoso &lt;script&gt;") {
		t.Error("the page does not show the body")
	}
}

// What Teams and Slack would refuse is refused, and shown.
func TestMalformedMessagesAreRefused(t *testing.T) {
	rec := devnotify.New(notify.NewSecret())
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	h := http.Header{"Content-Type": {"application/json"}}
	for path, body := range map[string]string{"/teams": `{"text":"a connector card"}`, "/slack": `{"attachments":[]}`, "/standard": `not json`} {
		if status := post(t, srv.URL+path, []byte(body), h); status != http.StatusBadRequest && !(path == "/standard" && status == http.StatusUnauthorized) {
			t.Errorf("%s: %s answered %d", path, body, status)
		}
	}
	for _, m := range messages(t, srv.URL) {
		if m.Problem == "" {
			t.Errorf("%s: no problem shown for %s", m.Format, m.Body)
		}
	}
}

// It keeps the last 200, newest first; down, it answers 503 and still shows what came.
func TestKeepsTheLast200AndGoesDown(t *testing.T) {
	rec := devnotify.New(notify.NewSecret())
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	for i := range 205 {
		body, h, _ := notify.SlackBody(change(int64(i + 1)))
		post(t, srv.URL+"/slack", body, h)
	}
	got := messages(t, srv.URL)
	if len(got) != devnotify.Keep || !strings.Contains(got[0].Body, "before=206") || !strings.Contains(got[len(got)-1].Body, "before=7") {
		t.Errorf("%d kept, first %.80q, last %.80q", len(got), got[0].Body, got[len(got)-1].Body)
	}
	resp, err := http.PostForm(srv.URL+"/down", map[string][]string{"down": {"true"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	body, h, _ := notify.TeamsBody(change(999))
	if status := post(t, srv.URL+"/teams", body, h); status != http.StatusServiceUnavailable {
		t.Errorf("down, answered %d", status)
	}
	if m := rec.Messages()[0]; m.Format != "teams" || m.Status != http.StatusServiceUnavailable {
		t.Errorf("newest %+v", m)
	}
	rec.SetDown(false)
	if status := post(t, srv.URL+"/teams", body, h); status != http.StatusAccepted {
		t.Errorf("back up, answered %d", status)
	}
}
