package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

const (
	appClientID   = "pcsupport-bench"
	proxyClientID = "bench-proxy"
	// proxyRedirect is never served: the bench stops at the redirect and reads the code from it.
	proxyRedirect = "http://127.0.0.1:9/bench-proxy/callback"
	pcScope       = "https://api.partnercenter.microsoft.com/user_impersonation"
)

// standIns are the development sign-in provider and the Partner Center emulator, in this
// process, each on its own loopback port, so their counters can be read directly.
type standIns struct {
	idp            *devidp.Provider
	emu            *pcemu.Emulator
	idpURL, emuURL string
	appSecret      string
	proxySecret    string
	servers        []*http.Server
	emuConns       *countingListener // connections made to the emulator: reuse shows as few
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// ownTenantPersonas are admins with MFA, each in a partner tenant of their own, for the save
// scenario without a shared tenant.
func ownTenantPersonas(n int) []devidp.Persona {
	ps := devidp.Personas()
	for i := range n {
		ps = append(ps, devidp.Persona{
			Key:      fmt.Sprintf("own%03d", i),
			ObjectID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			Name:     fmt.Sprintf("Owen Own %03d", i),
			UPN:      fmt.Sprintf("owen%03d@partner%03d.example", i, i),
			TenantID: fmt.Sprintf("00000000-0000-4000-9000-%012d", i),
			MFA:      true,
			Role:     "AccountAdmin",
		})
	}
	return ps
}

func startStandIns(appRedirect string, tokenLifetime time.Duration, personas []devidp.Persona) (*standIns, error) {
	s := &standIns{appSecret: rand.Text(), proxySecret: rand.Text()}
	idpLn, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	s.idpURL = "http://" + idpLn.Addr().String()
	s.idp, err = devidp.New(devidp.Options{
		Issuer: s.idpURL,
		Clients: []devidp.Client{
			{ID: appClientID, Secret: s.appSecret, RedirectURIs: []string{appRedirect}},
			{ID: proxyClientID, Secret: s.proxySecret, RedirectURIs: []string{proxyRedirect}},
		},
		AccessTokenLifetime: tokenLifetime,
		Personas:            personas,
	})
	if err != nil {
		idpLn.Close()
		return nil, fmt.Errorf("dev sign-in provider: %w", err)
	}
	s.serve(idpLn, s.idp)

	var keys []crypto.PublicKey
	for _, k := range s.idp.KeySet().Keys {
		keys = append(keys, k.Key)
	}
	// Rate limiting stays off (the default): every session works for the one dev tenant.
	s.emu = pcemu.New(pcemu.Options{KeySet: &oidc.StaticKeySet{PublicKeys: keys}, Issuers: []string{s.idpURL}})
	for _, p := range personas {
		s.emu.AssignRole(p.TenantID, p.ObjectID, p.Role)
	}
	emuLn, err := listenLoopback()
	if err != nil {
		s.close()
		return nil, err
	}
	s.emuURL = "http://" + emuLn.Addr().String()
	s.emuConns = &countingListener{Listener: emuLn}
	s.serve(s.emuConns, s.emu)
	return s, nil
}

func (s *standIns) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(ln) }()
}

func (s *standIns) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
}

// counters is what the stand-ins counted, for differences around a scenario.
type counters struct {
	upstream  pcemu.Stats
	conns     int64 // connections accepted by the emulator
	idp       devidp.Stats
	proxyRefr int
	cpuTicks  int64 // CPU time of the process under test (app or proxy)
}

func listenLoopback() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	return ln, nil
}

// freePort finds a loopback port for a child process to listen on.
func freePort() (int, error) {
	ln, err := listenLoopback()
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// moduleRoot is where go.mod is, so the bench runs from any directory inside the module.
func moduleRoot(goBin string) (string, error) {
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the bench inside the pcsupport module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}

// buildApp builds cmd/web as the Dockerfile does, so size and start-up are those of what ships.
func buildApp(goBin, root, out string) error {
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/web")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build cmd/web: %w\n%s", err, b)
	}
	return nil
}

// appProcess is cmd/web running as a child process in production mode, pointed at the stand-ins.
type appProcess struct {
	stopOnce sync.Once
	cmd      *exec.Cmd
	url      string // public URL, ending in "/"
	logs     *tailBuffer
	logFile  *os.File
	done     chan error
}

// appArgs configure the app as production would: every setting given, no --dev.
func appArgs(s *standIns, port int, dataDir string) []string {
	keys := make([]string, 2)
	for i := range keys {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		keys[i] = base64.StdEncoding.EncodeToString(b)
	}
	return []string{
		"--listen", "127.0.0.1:" + strconv.Itoa(port),
		"--public-url", fmt.Sprintf("http://127.0.0.1:%d/", port),
		"--oidc-issuer", s.idpURL,
		"--client-id", appClientID,
		"--client-secret", s.appSecret,
		"--session-keys", strings.Join(keys, " "),
		"--partner-center-url", s.emuURL,
		"--data-dir", dataDir,
	}
}

// startAppProcess starts the binary and waits until healthz answers; it returns the time from
// the start of the process to that first answer.
// env adds to the app's environment (GODEBUG, GOMEMLIMIT, ...); logFile, when set, also gets
// everything the app writes to stderr.
func startAppProcess(bin string, args []string, port int, env []string, logFile string) (*appProcess, time.Duration, error) {
	p := &appProcess{url: fmt.Sprintf("http://127.0.0.1:%d/", port), logs: &tailBuffer{max: 64 << 10}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.logs // JSON request logs, written as in production, kept only as a tail
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			return nil, 0, err
		}
		p.logFile = f
		p.cmd.Stderr = io.MultiWriter(p.logs, f)
	}
	// Only what is needed: no PCS_* setting of this environment may reach the app.
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start app: %w", err)
	}
	go func() { p.done <- p.cmd.Wait() }()

	health := p.url + "healthz"
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := start.Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(health)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(start), nil
			}
		}
		select {
		case err := <-p.done:
			return nil, 0, fmt.Errorf("app exited before it was ready: %v\n%s", err, p.logs)
		case <-time.After(time.Millisecond):
		}
	}
	p.stop()
	return nil, 0, fmt.Errorf("app not ready after 15 s\n%s", p.logs)
}

func (p *appProcess) pid() int { return p.cmd.Process.Pid }

// stop asks the app to shut down (SIGTERM) and waits for it, killing it after 10 s.
func (p *appProcess) stop() {
	p.stopOnce.Do(func() {
		stopProcess(p.cmd, p.done, 10*time.Second)
		if p.logFile != nil {
			p.logFile.Close()
		}
	})
}

// stopProcess ends a child we started: SIGTERM, then SIGKILL after grace.
func stopProcess(cmd *exec.Cmd, done <-chan error, grace time.Duration) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

// memUsage is a process's resident memory, from /proc/<pid>/status.
type memUsage struct {
	rss, peak int64 // VmRSS, VmHWM
	anon      int64 // RssAnon: heap, stacks and the runtime's own memory
	file      int64 // RssFile: mostly the pages of the binary that were used
}

func memory(pid int) (memUsage, error) {
	var m memUsage
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = kb << 10
		case "VmHWM:":
			m.peak = kb << 10
		case "RssAnon:":
			m.anon = kb << 10
		case "RssFile:":
			m.file = kb << 10
		}
	}
	return m, nil
}

// proxyProcess is the bare reverse proxy (this binary in proxy mode) as a child process, so it
// competes for the CPUs as the app does.
type proxyProcess struct {
	stopOnce sync.Once
	cmd      *exec.Cmd
	url      string
	done     chan error
	logs     *tailBuffer
}

// proxyToken is handed to the proxy child: a token from the dev provider and what it needs to
// refresh it.
type proxyToken struct {
	Upstream     string        `json:"upstream"`
	TokenURL     string        `json:"tokenURL"`
	ClientID     string        `json:"clientID"`
	ClientSecret string        `json:"clientSecret"`
	Token        *oauth2.Token `json:"token"`
}

func startProxyProcess(cfg proxyToken) (*proxyProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(cfg)
	p := &proxyProcess{url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan error, 1), logs: &tailBuffer{max: 16 << 10}}
	p.cmd = exec.Command(self, "--proxy-child", "127.0.0.1:"+strconv.Itoa(port))
	p.cmd.Stdin = bytes.NewReader(b) // the token stays out of argv and the environment
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start proxy: %w", err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	for range 5000 {
		resp, err := client.Get(p.url + proxyStatsPath)
		if err == nil {
			resp.Body.Close()
			return p, nil
		}
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("proxy exited: %v\n%s", err, p.logs)
		case <-time.After(2 * time.Millisecond):
		}
	}
	p.stop()
	return nil, fmt.Errorf("proxy not ready\n%s", p.logs)
}

func (p *proxyProcess) refreshes() (int, error) {
	resp, err := http.Get(p.url + proxyStatsPath)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st proxyStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	return st.Refreshes, nil
}

func (p *proxyProcess) stop() { p.stopOnce.Do(func() { stopProcess(p.cmd, p.done, 5*time.Second) }) }

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max { // trim now and then, not on every write: the app logs every request
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b[max(0, len(t.b)-t.max):])
}
