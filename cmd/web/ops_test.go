package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
	"pcsupport/internal/testkit"
)

// /metrics counts requests by route pattern and status, Partner Center calls by operation and
// status, sign-ins, refreshes and saves by outcome; JSON logs tie a request id to the Partner
// Center correlation id.
func TestMetricsAndRequestLogs(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--log-format", "json", "--dev-token-lifetime", "2s")
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	form.Set("telephone", "+33 1 23 45 67 89")
	resp, doc := b.post(app.url+"save", form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	b.post(app.url+"save", formValues(doc)) // unchanged
	b.get(app.url + "no/such/page/42")
	time.Sleep(1600 * time.Millisecond) // past three quarters of the token's life: the next call refreshes it
	if resp, _ := b.get(app.url); resp.StatusCode != http.StatusOK {
		t.Fatalf("page after the refresh: %d", resp.StatusCode)
	}

	m := scrape(t, app.url+"metrics")
	for _, want := range []struct {
		series string
		min    float64
	}{
		{`pcsupport_http_request_duration_seconds_count{method="POST",route="/save",status="303"}`, 1},
		{`pcsupport_http_request_duration_seconds_count{method="GET",route="/",status="200"}`, 2},
		{`pcsupport_http_request_duration_seconds_count{method="GET",route="/auth/callback",status="303"}`, 1},
		{`pcsupport_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}`, 1},
		{`pcsupport_partner_center_request_duration_seconds_count{operation="get_support_profile",status="200"}`, 2},
		{`pcsupport_partner_center_request_duration_seconds_count{operation="update_support_profile",status="200"}`, 1},
		{`pcsupport_sign_ins_total{outcome="success"}`, 1},
		{`pcsupport_token_refreshes_total{outcome="success"}`, 1},
		{`pcsupport_http_requests_in_flight`, 1}, // the scrape itself
		{`go_goroutines`, 1},
	} {
		if got, ok := m[want.series]; !ok || got < want.min {
			t.Errorf("%s = %v (present %v), want at least %v", want.series, got, ok, want.min)
		}
	}
	// Saves are counted by outcome (handlers.Options.ObserveSave).
	for _, series := range []string{`pcsupport_saves_total{outcome="saved"}`, `pcsupport_saves_total{outcome="unchanged"}`} {
		if m[series] != 1 {
			t.Errorf("%s = %v, want 1", series, m[series])
		}
	}
	for series := range m {
		if strings.Contains(series, "no/such") || strings.Contains(series, "42") && strings.Contains(series, "route=") {
			t.Errorf("a raw URL became a label: %s", series)
		}
	}

	// The save's audit record and the request's log line share the request id; the audit record
	// carries the Partner Center correlation id.
	var saveID string
	requestIDs := map[string]bool{}
	for _, rec := range jsonLines(t, app.logs.String()) {
		id, _ := rec["request_id"].(string)
		switch rec["msg"] {
		case "request":
			if rec["route"] == "/save" && id != "" {
				requestIDs[id] = true
			}
		case "support profile save":
			if rec["outcome"] != "saved" {
				continue // the unchanged save called nobody
			}
			if rec["correlation_id"] == nil || rec["correlation_id"] == "" {
				t.Errorf("audit record without correlation id: %v", rec)
			}
			saveID = id
		}
	}
	if saveID == "" || !requestIDs[saveID] {
		t.Errorf("the save's audit record has request id %q; request lines for /save have %v", saveID, requestIDs)
	}
}

// SIGTERM (the run context ending) stops new connections at once, while a save already under
// way (its PUT held up by the emulator) finishes and gets its answer; then run returns cleanly.
func TestShutdownLetsASaveInFlightFinish(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, done, logs := make(chan *app, 1), make(chan error, 1), &testkit.SyncBuffer{}
	args := []string{"--dev", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}
	go func() { done <- run(ctx, args, func(string) string { return "" }, io.Discard, logs, ready) }()
	var a *app
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatalf("app did not start: %v\n%s", err, logs.String())
	}
	app := &testApp{app: a, url: a.cfg.PublicURL.String(), logs: logs}
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	form.Set("telephone", "+49 30 1234567")
	app.dev.emu.InjectFaults(pcemu.Fault{Method: http.MethodPut, Delay: 2 * time.Second})

	gets := app.dev.emu.Stats().Gets
	type result struct {
		resp *http.Response
		err  error
	}
	saved := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, app.url+"save", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect(b.client.Jar).Do(req)
		saved <- result{resp, err}
	}()
	waitUntil(t, "the save's GET", func() bool { return app.dev.emu.Stats().Gets > gets })
	time.Sleep(300 * time.Millisecond) // the PUT is now held by the emulator
	cancel()

	waitUntil(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", app.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case r := <-saved:
		if r.err != nil {
			t.Fatalf("the save in flight was cut off: %v", r.err)
		}
		r.resp.Body.Close()
		if r.resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the save in flight answered %d, want 303", r.resp.StatusCode)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the save in flight got no answer")
	}
	if _, tel, _ := app.dev.emu.Profile(devidp.TenantID); tel != "+49 30 1234567" {
		t.Errorf("emulator holds telephone %q", tel)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the save finished")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", logs.String())
	}
}

// `web healthcheck` (the image's HEALTHCHECK) finds /healthz from the environment alone, with and
// without the proxy stripping the prefix, and fails when nothing healthy answers.
func TestHealthcheckSubcommand(t *testing.T) {
	t.Parallel()
	for _, strip := range []bool{false, true} {
		app, _ := startUnderPrefix(t, strip)
		env := map[string]string{"PCS_LISTEN": app.addr, "PCS_PUBLIC_URL": app.url, "PCS_PROXY_STRIPS_PREFIX": strconv.FormatBool(strip)}
		var out strings.Builder
		if err := run(context.Background(), []string{"healthcheck"}, mapEnv(env), &out, io.Discard, nil); err != nil {
			t.Errorf("strip=%v: healthcheck failed: %v", strip, err)
		}
		env["PCS_PROXY_STRIPS_PREFIX"] = strconv.FormatBool(!strip) // looks in the wrong place: 404
		if err := run(context.Background(), []string{"healthcheck"}, mapEnv(env), io.Discard, io.Discard, nil); err == nil {
			t.Errorf("strip=%v: healthcheck passed at the wrong path", strip)
		}
	}
	env := map[string]string{"PCS_LISTEN": freeLoopbackAddr(t)}
	if err := run(context.Background(), []string{"healthcheck"}, mapEnv(env), io.Discard, io.Discard, nil); err == nil {
		t.Error("healthcheck passed with nothing listening")
	}
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrape reads a Prometheus text page into series -> value.
func scrape(t *testing.T, u string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func jsonLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, rec)
	}
	if len(out) == 0 {
		t.Fatalf("no JSON log lines:\n%s", logs)
	}
	return out
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
