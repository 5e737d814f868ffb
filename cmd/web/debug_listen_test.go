package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// With --debug-listen, CPU and allocation profiles of the running app are served on a loopback
// listener of their own, and never on the app's own address.
func TestDebugListenerServesProfiles(t *testing.T) {
	t.Parallel()
	addr := freeLoopbackAddr(t)
	app := startApp(t, "--debug-listen", addr)
	get := func(u string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if status, body := get("http://" + addr + "/debug/pprof/allocs?debug=1"); status != http.StatusOK || !strings.HasPrefix(string(body), "heap profile:") {
		t.Errorf("allocation profile: %d %.80q", status, body)
	}
	if status, body := get("http://" + addr + "/debug/pprof/profile?seconds=1"); status != http.StatusOK || len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		t.Errorf("CPU profile: %d, %d bytes; want a gzipped profile", status, len(body))
	}
	// The command line holds every flag, client secret and session keys included; in Kubernetes
	// loopback is shared by every container of the pod.
	if status, body := get("http://" + addr + "/debug/pprof/cmdline"); status != http.StatusNotFound {
		t.Errorf("the command line is served: %d %.80q", status, body)
	}
	if status, body := get("http://" + addr + "/debug/pprof/"); status != http.StatusOK || strings.Contains(string(body), "cmdline") || !strings.Contains(string(body), "allocs") {
		t.Errorf("the index: %d %.300q; want the profiles listed, and no command line", status, body)
	}
	if status, _ := get(app.url + "debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("the app's own address serves /debug/pprof/: %d", status)
	}
}

func TestDebugListenerOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060"} {
		err := run(context.Background(), []string{"--dev", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--debug-listen", addr},
			func(string) string { return "" }, io.Discard, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), "loopback only") {
			t.Errorf("--debug-listen %s: %v; want a refusal naming loopback", addr, err)
		}
	}
}

func TestTakeDebugListen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args, rest []string
		addr       string
	}{
		{[]string{"--dev"}, []string{"--dev"}, ""},
		{[]string{"--dev", "--debug-listen", "127.0.0.1:0", "--listen", ":1"}, []string{"--dev", "--listen", ":1"}, "127.0.0.1:0"},
		{[]string{"-debug-listen=[::1]:6060", "--dev"}, []string{"--dev"}, "[::1]:6060"},
	} {
		rest, addr, err := takeDebugListen(c.args)
		if err != nil || addr != c.addr || !slices.Equal(rest, c.rest) {
			t.Errorf("takeDebugListen(%q) = %q, %q, %v; want %q, %q", c.args, rest, addr, err, c.rest, c.addr)
		}
	}
	if _, _, err := takeDebugListen([]string{"--dev", "--debug-listen"}); err == nil {
		t.Error("--debug-listen without an address was accepted")
	}
}
