// Package redistest starts a throwaway redis-server for tests: a free loopback port, no
// persistence, a temporary directory, stopped when the test ends.
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	Addr string // host:port
	URL  string // redis://host:port/0
	cmd  *exec.Cmd
	log  *bytes.Buffer
	stop func()
}

// Stop kills the server now, as an outage would; the test's cleanup does it anyway.
func (s *Server) Stop() { s.stop() }

// Pause stops the server answering, keeping its connections and data, as a hung or partitioned
// Redis would; Resume lets it answer again with everything it held.
func (s *Server) Pause() { _ = s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume undoes Pause.
func (s *Server) Resume() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }

// Start runs redis-server until t ends. When the binary is missing the test is skipped, unless
// PCS_REQUIRE_REDIS=1 (as in CI), where it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("PCS_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server is required (PCS_REQUIRE_REDIS=1) but not found: %v", err)
		}
		t.Skip("redis-server not found: skipping the Redis tests (apt-get install redis-server; CI sets PCS_REQUIRE_REDIS=1)")
	}
	var last error
	for range 5 { // the free port may be taken between choosing it and redis binding it
		s, err := start(t, bin)
		if err == nil {
			return s
		}
		last = err
	}
	t.Fatalf("start redis-server: %v", last)
	return nil
}

func start(t testing.TB, bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: &bytes.Buffer{}}
	s.URL = "redis://" + s.Addr + "/0"
	s.cmd = exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no", "--loglevel", "warning")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = s.cmd.Process.Kill()
			<-exited
		})
	}
	s.stop = stop
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s.ping() == nil {
			break
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("redis-server exited: %s", s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("redis-server did not answer on %s: %s", s.Addr, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(stop)
	return s, nil
}

// ping speaks just enough RESP to know that the server answering is ours, not one another test
// package started on the same port a moment before.
func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
		return err
	}
	rd := bufio.NewReader(c)
	header, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(header, "$")))
	if err != nil || !strings.HasPrefix(header, "$") {
		return fmt.Errorf("INFO answered %q", header)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		return err
	}
	if want := fmt.Sprintf("process_id:%d\r\n", s.cmd.Process.Pid); !bytes.Contains(body, []byte(want)) {
		return errors.New("another redis-server answers on this port")
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Client is a go-redis client of the server, closed when t ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts.DisableIdentity = true // CLIENT SETINFO is unknown before Redis 7.2 (Debian 12 ships 7.0)
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}
