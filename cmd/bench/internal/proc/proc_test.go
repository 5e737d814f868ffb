package proc

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The CPU time read for a process grows when it works.
// The process's CPU time as read from /proc agrees with the kernel's own account of it
// (getrusage), after spinning until that account says 100 ms: however busy the machine is, the
// spinning ends when the CPU was spent, not after a time that assumes a free core.
func TestCPUTicksGrowWithWork(t *testing.T) {
	before, err := CPUTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start := processCPU(t)
	for deadline := time.Now().Add(time.Minute); processCPU(t)-start < 100*time.Millisecond; { // busy, on purpose
		if time.Now().After(deadline) {
			t.Fatal("a minute of spinning did not spend 100 ms of CPU")
		}
	}
	spent := processCPU(t) - start
	after, _ := CPUTicks(os.Getpid())
	// /proc counts in clock ticks (10 ms): allow a tick either way at each end.
	if d := TicksToDuration(after - before); d < spent-20*time.Millisecond || d > spent+50*time.Millisecond {
		t.Errorf("/proc counted %s of CPU while the kernel's account says %s", d, spent)
	}
	if _, err := CPUTicks(1 << 30); err == nil {
		t.Error("a process that does not exist has a CPU time")
	}
}

// processCPU is the user and system CPU this process has used, from getrusage.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
