package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"pcsupport/internal/pcemu"
	"pcsupport/internal/testkit"
)

// binDir is where TestMain lets webBinary build the app.
var binDir string

var built struct {
	once sync.Once
	path string
	err  error
}

// webBinary builds ./cmd/web once per run, as `go build` builds it for people, and returns its path.
func webBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(binDir, "web")
		cmd := exec.Command(testkit.GoCommand(t), "build", "-o", built.path, "./cmd/web")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ./cmd/web: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// moduleRoot is the directory of go.mod, above the test's working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// devApp is `web --dev` running as a process of its own, found through what it prints.
type devApp struct {
	url       string // the URL to open, ending in "/"
	idpURL    string // the development sign-in provider
	emuURL    string // the Partner Center emulator
	faultsURL string // the emulator's control page, linked from the dev banner
	logs      *testkit.SyncBuffer
}

var (
	openLine = regexp.MustCompile(`(?m)^Support profile admin is running: open (\S+)$`)
	devLine  = regexp.MustCompile(`(?m)^Development mode: sign-in provider (\S+), Partner Center emulator (\S+) \(faults: (\S+)\)$`)
)

// startApp runs `web --dev` with the given extra flags, on a free port and a data directory of its
// own, until the test ends; then it stops it with SIGTERM, as a service manager does. Start the
// app before the browser: cleanups run last first, so the browser closes its connections before
// the app shuts down (which would otherwise wait 5 s for a connection that never sent a request).
func startApp(t *testing.T, flags ...string) *devApp {
	t.Helper()
	requireChromium(t) // the app is run only for a browser: without one, nothing is built
	args := append([]string{"--dev", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "debug"}, flags...)
	cmd := exec.Command(webBinary(t), args...)
	stdout, logs := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("web did not stop cleanly after SIGTERM: %v", err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("web did not stop within 20 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("app log:\n%s", logs.String())
		}
	})

	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out := stdout.String()
		open, dev := openLine.FindStringSubmatch(out), devLine.FindStringSubmatch(out)
		if open != nil && dev != nil {
			return &devApp{url: open[1], idpURL: dev[1], emuURL: dev[2], faultsURL: dev[3], logs: logs}
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("web --dev exited before it was ready: %v\n%s%s", err, out, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("web --dev did not say where it runs within 20 s; it printed:\n%s", out)
		}
	}
}

// The emulator is driven through its control surface (internal/pcemu/control.go), as a tool
// or a person testing by hand would drive it.

// injectFaults queues faults for the next Partner Center responses.
func (a *devApp) injectFaults(t *testing.T, faults ...pcemu.Fault) {
	t.Helper()
	for _, f := range faults {
		a.control(t, http.MethodPost, "faults", map[string]any{"count": f.Count, "method": f.Method, "status": f.Status,
			"code": f.Code, "description": f.Description, "retryAfterSeconds": f.RetryAfter.Seconds(),
			"delayMs": f.Delay.Milliseconds(), "body": f.Body.String(), "reset": f.Reset}, http.StatusCreated, nil)
	}
}

// emulatorState is what GET /_emulator/state says.
type emulatorState struct {
	Tenants []struct {
		TenantID string `json:"tenantId"`
		Profile  struct {
			Email     string `json:"email"`
			Telephone string `json:"telephone"`
			Website   string `json:"website"`
		} `json:"profile"`
	} `json:"tenants"`
	Stats pcemu.Stats `json:"stats"`
}

// profile is the tenant's stored support profile; the tenant must have been read already.
func (a *devApp) profile(t *testing.T, tenantID string) (email, telephone, website string) {
	t.Helper()
	var s emulatorState
	a.control(t, http.MethodGet, "state", nil, http.StatusOK, &s)
	for _, tn := range s.Tenants {
		if tn.TenantID == tenantID {
			return tn.Profile.Email, tn.Profile.Telephone, tn.Profile.Website
		}
	}
	t.Fatalf("the emulator has not seen tenant %s yet", tenantID)
	return "", "", ""
}

// stats counts the Partner Center requests of every tenant.
func (a *devApp) stats(t *testing.T) pcemu.Stats {
	t.Helper()
	var s emulatorState
	a.control(t, http.MethodGet, "state", nil, http.StatusOK, &s)
	return s.Stats
}

// setProfile changes the tenant's profile behind the app's back, as the Partner Center portal
// would.
func (a *devApp) setProfile(t *testing.T, tenantID, email, telephone, website string) {
	t.Helper()
	a.control(t, http.MethodPost, "profile", map[string]string{"tenantId": tenantID, "email": email,
		"telephone": telephone, "website": website}, http.StatusOK, nil)
}

// control sends a JSON request to the emulator's control surface and decodes the answer into out.
func (a *devApp) control(t *testing.T, method, endpoint string, in any, status int, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.emuURL+"/_emulator/"+endpoint, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("emulator %s %s: %v", method, endpoint, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("emulator %s %s: %d, want %d: %s", method, endpoint, resp.StatusCode, status, answer)
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			t.Fatalf("emulator %s %s: %v: %s", method, endpoint, err, answer)
		}
	}
}
