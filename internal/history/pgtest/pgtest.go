// Package pgtest starts one throwaway PostgreSQL cluster per test binary (a temporary directory,
// a Unix socket, fsync off) and gives each test a fresh database in it.
//
// Use it from TestMain, so the cluster stops when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	running   atomic.Bool // Run is in charge of stopping the cluster
	startOnce sync.Once
	shared    *cluster
	startErr  error
	databases atomic.Int64
)

// Run runs the tests, then stops the cluster if a test started it. Call it from TestMain.
func Run(m *testing.M) int {
	running.Store(true)
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	return code
}

// Start starts the shared cluster unless it runs already. Without PostgreSQL installed the test is
// skipped, unless PCS_REQUIRE_POSTGRES=1 (as in CI), where it fails: call it first in a test
// that groups the PostgreSQL tests, for one skip line.
func Start(t testing.TB) {
	t.Helper()
	if !running.Load() {
		t.Fatal("pgtest: call os.Exit(pgtest.Run(m)) from TestMain, so the cluster stops with the tests")
	}
	startOnce.Do(func() { shared, startErr = start() })
	var missing *missingError
	switch {
	case errors.As(startErr, &missing) && os.Getenv("PCS_REQUIRE_POSTGRES") != "1":
		t.Skipf("%v: skipping the PostgreSQL tests (apt-get install postgresql; CI sets PCS_REQUIRE_POSTGRES=1)", startErr)
	case startErr != nil:
		t.Fatalf("pgtest: %v", startErr)
	}
}

// NewDatabase creates an empty database for t in the shared cluster (see Start) and returns its
// URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	Start(t)
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), databases.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, shared.url("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect to the cluster: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return shared.url(name)
}

// missingError says PostgreSQL is not installed here (skip), as opposed to failing to start.
type missingError struct{ what string }

func (e *missingError) Error() string { return e.what }

type cluster struct {
	dir     string // data directory, socket and log
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped sync.Once
}

func (c *cluster) url(database string) string {
	return "postgres://postgres@/" + database + "?host=" + url.QueryEscape(c.dir) + "&sslmode=disable"
}

func start() (*cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := nonRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pcs-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, exited: make(chan struct{})}
	if err := c.initdb(bin, cred); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := c.run(bin, cred); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// findBinaries gives the directory holding initdb and postgres: PATH first, then Debian's
// /usr/lib/postgresql/<version>/bin, newest version.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real // a link on PATH; postgres lies beside its target
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", &missingError{"PostgreSQL not found (no initdb in PATH or /usr/lib/postgresql/*/bin)"}
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// nonRoot gives the credentials to run PostgreSQL as, which refuses to run as root: the
// postgres user (made by Debian's package) when we are root, nil (ourselves) otherwise.
func nonRoot() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, &missingError{"running as root and no postgres user to run PostgreSQL as"}
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (c *cluster) command(cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	// SIGQUIT is PostgreSQL's immediate shutdown: the cluster dies with a killed test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

func (c *cluster) initdb(bin string, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(c.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	cmd := c.command(cred, filepath.Join(bin, "initdb"), "-D", filepath.Join(c.dir, "data"),
		"-U", "postgres", "--auth=trust", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	return nil
}

// run starts the server on a Unix socket in the cluster's directory (no port to collide on).
func (c *cluster) run(bin string, cred *syscall.Credential) error {
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	c.cmd = c.command(cred, filepath.Join(bin, "postgres"), "-D", filepath.Join(c.dir, "data"),
		"-k", c.dir, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.url("postgres"))
		if err == nil {
			_ = conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-c.exited:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited: %s", out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not answer: %v: %s", err, out)
		}
	}
}

// stop shuts the server down (fast: sessions are ended) and removes its directory.
func (c *cluster) stop() {
	c.stopped.Do(func() {
		if c.cmd != nil && c.cmd.Process != nil {
			_ = c.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-c.exited:
			case <-time.After(10 * time.Second):
				_ = c.cmd.Process.Kill()
				<-c.exited
			}
		}
		_ = os.RemoveAll(c.dir)
	})
}
