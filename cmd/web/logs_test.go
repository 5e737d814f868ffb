package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// What outsiders send cannot grow the log by more than a fixed amount per request: every value
// taken from a request is cut (saying how long it was), each request is one line, and a refused
// sign-in callback is logged at info, not as the app's own error.
func TestOutsidersCannotGrowTheLog(t *testing.T) {
	t.Parallel()
	app := runApp(t, "--dev", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json")
	client := noRedirect(nil)
	get := func(u string) int {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		readAll(resp)
		return resp.StatusCode
	}
	huge := strings.Repeat("a", 60<<10)
	before := len(app.logs.String())
	for range 20 {
		get(app.url + huge)
	}
	if grown := len(app.logs.String()) - before; grown > 20*1024 {
		t.Errorf("twenty requests with 60 KB paths added %d KB to the log, want at most 1 KB each", grown>>10)
	}

	// A callback with a made-up state and a huge error description, and one with a garbage code
	// for a real state (the provider refuses the code: the person gets a 400).
	get(app.url + "auth/callback?" + url.Values{"state": {"made-up"}, "error": {"access_denied"}, "error_description": {huge}}.Encode())
	resp, err := client.Get(app.url + "auth/signin")
	if err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	jar := resp.Cookies()
	req, _ := http.NewRequest(http.MethodGet, app.url+"auth/callback?"+url.Values{"state": {loc.Query().Get("state")},
		"error": {"server_error"}, "error_description": {huge}}.Encode(), nil)
	for _, c := range jar {
		req.AddCookie(c)
	}
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a callback with the provider's error: %d, want 403", resp.StatusCode)
	}
	resp, _ = client.Get(app.url + "auth/signin")
	readAll(resp)
	loc, _ = url.Parse(resp.Header.Get("Location"))
	req, _ = http.NewRequest(http.MethodGet, app.url+"auth/callback?"+url.Values{"state": {loc.Query().Get("state")}, "code": {huge[:2000]}}.Encode(), nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a garbage code: %d, want 400", resp.StatusCode)
	}

	perRequest := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(app.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 2048 {
			t.Errorf("a log line of %d bytes: %.300s", len(line), line)
		}
		var rec map[string]any
		if json.Unmarshal(line, &rec) != nil {
			continue
		}
		if rec["level"] == "ERROR" {
			t.Errorf("an outsider's request was logged as an error: %s", line)
		}
		if id, ok := rec["request_id"].(string); ok {
			perRequest[id]++
		}
	}
	for id, n := range perRequest {
		if n != 1 {
			t.Errorf("request %s wrote %d log lines, want one", id, n)
		}
	}
	if len(perRequest) < 23 {
		t.Errorf("%d requests logged, want each of the 23 refused ones", len(perRequest))
	}
	if !strings.Contains(app.logs.String(), "(61440 bytes)") {
		t.Errorf("a cut value does not say how long it was:\n%.3000s", app.logs.String())
	}
}
