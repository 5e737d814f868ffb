package proc

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The CPU time read for a process grows when it works.
func TestCPUTicksGrowWithWork(t *testing.T) {
	before, err := CPUTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 150*time.Millisecond; { // busy, on purpose
	}
	after, _ := CPUTicks(os.Getpid())
	if d := TicksToDuration(after - before); d < 50*time.Millisecond {
		t.Errorf("150 ms of spinning counted %s of CPU", d)
	}
	if _, err := CPUTicks(1 << 30); err == nil {
		t.Error("a process that does not exist has a CPU time")
	}
}

func TestReadMemory(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS || m.Anon+m.File > m.RSS+1<<20 {
		t.Errorf("memory %+v", m)
	}
}

// A child that exits before it is ready is reported with what it wrote.
func TestWaitReadyReportsAnEarlyExit(t *testing.T) {
	c, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", "echo cannot start; exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(time.Second)
	err = c.WaitReady(func() bool { return false }, 5*time.Millisecond, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "cannot start") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("WaitReady: %v", err)
	}
}

// The file system of a temporary directory is named by its type.
func TestFilesystemOf(t *testing.T) {
	got := FilesystemOf(t.TempDir())
	if got == "unknown file system" || !strings.Contains(got, " on ") {
		t.Errorf("FilesystemOf(a temporary directory) = %q", got)
	}
	if root := FilesystemOf("/"); strings.HasPrefix(root, "proc ") || root == "unknown file system" {
		t.Errorf("FilesystemOf(/) = %q", root)
	}
}
