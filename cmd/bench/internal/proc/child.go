// Package proc starts the processes the bench measures, stops them, and reads what Linux
// counts for them and for the machine (/proc).
package proc

import (
	"cmp"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Child is a process the bench started; what it writes is kept as a tail for error messages.
type Child struct {
	Started time.Time
	Logs    *TailBuffer
	cmd     *exec.Cmd
	done    chan error
	stop    sync.Once
}

// Spec says how to start a child.
type Spec struct {
	Path     string
	Args     []string
	Env      []string  // the child's whole environment; nil passes on this process's
	Stdin    io.Reader // e.g. a secret that must stay out of argv and the environment
	Log      io.Writer // also gets everything the child writes, when set
	TailSize int       // bytes of output kept for error messages; default 16 KiB
}

// Start starts the child.
func Start(s Spec) (*Child, error) {
	c := &Child{Logs: &TailBuffer{max: cmp.Or(s.TailSize, 16<<10)}, done: make(chan error, 1)}
	c.cmd = exec.Command(s.Path, s.Args...)
	c.cmd.Env, c.cmd.Stdin = s.Env, s.Stdin
	var out io.Writer = c.Logs
	if s.Log != nil {
		out = io.MultiWriter(c.Logs, s.Log)
	}
	c.cmd.Stdout, c.cmd.Stderr = out, out
	c.Started = time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.Path, err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	return c, nil
}

// PID is the child's process id.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// WaitReady polls ready every pause until it says yes; it fails when the child exits first or
// limit passes, with the tail of what the child wrote.
func (c *Child) WaitReady(ready func() bool, pause, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if ready() {
			return nil
		}
		select {
		case err := <-c.done:
			c.done <- err // Stop waits on it too
			return fmt.Errorf("exited before it was ready: %v\n%s", err, c.Logs)
		case <-time.After(pause):
		}
	}
	return fmt.Errorf("not ready after %s\n%s", limit, c.Logs)
}

// Stop asks the child to end (SIGTERM) and waits for it, killing it after grace.
func (c *Child) Stop(grace time.Duration) {
	c.stop.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(grace):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
}

// TailBuffer keeps the last bytes written to it.
type TailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max { // trim now and then, not on every write: the app logs every request
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b[max(0, len(t.b)-t.max):])
}
