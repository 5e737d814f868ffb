package main

import (
	"bufio"
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"pcsupport/cmd/bench/internal/proc"
	"pcsupport/internal/devstack"
)

// appProcess is cmd/web running as a child process in production mode, pointed at the stand-ins.
type appProcess struct {
	*proc.Child
	url      string // public URL, ending in "/"
	debugURL string // the profiling listener, when the build has one
	logFile  *os.File
}

// appConfig is where one app process listens and keeps its sessions.
type appConfig struct {
	port        int
	dataDir     string
	sessionKeys string // --session-keys; new ones when empty. An app started again with the same keys and data dir keeps its sessions.
	databaseURL string // --database-url of the change history; empty: SQLite in dataDir
	debugPort   int    // 0: no debug listener
	logFile     string // also gets the app's log, when set
}

// newSessionKeys are a signing and an encryption key, as --session-keys takes them.
func newSessionKeys() string {
	keys := make([]string, 2)
	for i := range keys {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		keys[i] = base64.StdEncoding.EncodeToString(b)
	}
	return strings.Join(keys, " ")
}

// appArgs configure the app as production would: every setting given, no --dev.
func appArgs(s *devstack.Stack, c appConfig) []string {
	args := []string{
		"--listen", "127.0.0.1:" + strconv.Itoa(c.port),
		"--public-url", fmt.Sprintf("http://127.0.0.1:%d/", c.port),
		"--oidc-issuer", s.ProviderURL,
		"--client-id", appClientID,
		"--client-secret", s.Secret(appClientID),
		"--session-keys", cmp.Or(c.sessionKeys, newSessionKeys()),
		"--partner-center-url", s.EmulatorURL,
		"--data-dir", c.dataDir,
	}
	if c.databaseURL != "" {
		args = append(args, "--database-url", c.databaseURL)
	}
	if c.debugPort != 0 {
		args = append(args, "--debug-listen", "127.0.0.1:"+strconv.Itoa(c.debugPort))
	}
	return args
}

// startApp starts the binary and waits until healthz answers; it returns the time from the
// start of the process to that first answer. env adds to the app's environment (GODEBUG,
// GOMEMLIMIT, ...); no PCS_* setting of this environment may reach it.
func startApp(bin string, s *devstack.Stack, c appConfig, env []string) (*appProcess, time.Duration, error) {
	spec := proc.Spec{Path: bin, Args: appArgs(s, c), TailSize: 64 << 10,
		Env: append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)}
	var logFile *os.File
	if c.logFile != "" {
		f, err := os.Create(c.logFile)
		if err != nil {
			return nil, 0, err
		}
		spec.Log, logFile = f, f
	}
	child, err := proc.Start(spec)
	if err != nil {
		return nil, 0, fmt.Errorf("start app: %w", err)
	}
	p := &appProcess{Child: child, url: fmt.Sprintf("http://127.0.0.1:%d/", c.port), logFile: logFile}
	if c.debugPort != 0 {
		p.debugURL = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", c.debugPort)
	}
	var ready time.Duration
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	err = child.WaitReady(func() bool {
		ok := statusOK(client, p.url+"healthz")
		ready = time.Since(child.Started)
		return ok
	}, time.Millisecond, 15*time.Second)
	if err != nil {
		p.stop()
		return nil, 0, fmt.Errorf("app: %w", err)
	}
	return p, ready, nil
}

func statusOK(c *http.Client, u string) bool {
	resp, err := c.Get(u)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop asks the app to shut down and waits for it, killing it after 10 s.
func (p *appProcess) stop() {
	p.Stop(10 * time.Second)
	if p.logFile != nil {
		p.logFile.Close()
	}
}

// mallocs is the count of heap objects the app allocated so far, from its own runtime (the
// Go collector on /metrics). Reading it costs the app a few hundred allocations itself.
func (p *appProcess) mallocs() (int64, error) {
	v, err := p.metrics("go_memstats_mallocs_total")
	return int64(v[0]), err
}

// goMemory is what the app's Go runtime says of its memory (the Go collector on /metrics), to
// tell what its anonymous resident memory is made of.
type goMemory struct {
	heapLive   int64 // bytes of live and not yet collected objects (heap_alloc)
	heapInUse  int64 // bytes in spans holding objects
	heapKept   int64 // bytes of free spans not yet returned to the system (idle − released)
	stacks     int64 // goroutine stacks
	goroutines int64
}

func (p *appProcess) goMemory() (goMemory, error) {
	v, err := p.metrics("go_memstats_heap_alloc_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes",
		"go_memstats_heap_released_bytes", "go_memstats_stack_inuse_bytes", "go_goroutines")
	return goMemory{heapLive: int64(v[0]), heapInUse: int64(v[1]), heapKept: int64(v[2] - v[3]),
		stacks: int64(v[4]), goroutines: int64(v[5])}, err
}

// metrics reads series of the app's /metrics, each named as it is written there (with its
// labels, e.g. `pcsupport_saves_total{outcome="saved"}`); a series missing is an error.
func (p *appProcess) metrics(series ...string) ([]float64, error) {
	values := make([]float64, len(series))
	resp, err := http.Get(p.url + "metrics")
	if err != nil {
		return values, err
	}
	defer resp.Body.Close()
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if i := slices.Index(series, name); ok && i >= 0 {
			if values[i], err = strconv.ParseFloat(v, 64); err != nil {
				return values, fmt.Errorf("the app's /metrics: %s: %w", name, err)
			}
			found++
		}
	}
	if found < len(series) {
		return values, fmt.Errorf("the app's /metrics lacks some of %s (%v)", strings.Join(series, ", "), sc.Err())
	}
	return values, nil
}

// freePort finds a loopback port for a child process to listen on.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen on loopback: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
