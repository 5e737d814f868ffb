package proc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// TicksPerSecond is USER_HZ, the unit of the CPU times in /proc: 100 on every Linux this runs on.
const TicksPerSecond = 100

// TicksToDuration turns clock ticks into time.
func TicksToDuration(ticks int64) time.Duration {
	return time.Duration(ticks) * (time.Second / TicksPerSecond)
}

// CPUTicks is the user and system CPU time of a process, all its threads, in clock ticks
// (utime + stime of /proc/<pid>/stat).
func CPUTicks(pid int) (int64, error) {
	user, system, err := CPUTimes(pid)
	return user + system, err
}

// CPUTimes is the user and the system CPU time of a process, all its threads, in clock ticks.
func CPUTimes(pid int) (user, system int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name may hold spaces; the fields after it are fixed.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields after the name, want 13 or more", pid, len(f))
	}
	user, _ = strconv.ParseInt(f[11], 10, 64)
	system, _ = strconv.ParseInt(f[12], 10, 64)
	return user, system, nil
}

// MachineBusyTicks is the CPU time all CPUs spent on anything but idling, in clock ticks.
func MachineBusyTicks() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return busy
}

// Memory is a process's resident memory, from /proc/<pid>/status.
type Memory struct {
	RSS, Peak int64 // VmRSS, VmHWM
	Anon      int64 // RssAnon: heap, stacks and the runtime's own memory
	File      int64 // RssFile: mostly the pages of the binary that were used
}

// ReadMemory reads a process's resident memory.
func ReadMemory(pid int) (Memory, error) {
	var m Memory
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	fields := map[string]*int64{"VmRSS:": &m.RSS, "VmHWM:": &m.Peak, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if dst, ok := fields[firstOr(f)]; ok && len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			*dst = kb << 10
		}
	}
	return m, nil
}

func firstOr(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// DescribeMachine names what the numbers were measured on.
func DescribeMachine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown memory"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				mem = fmt.Sprintf("%.1f GiB memory", float64(kb)/(1<<20))
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d CPUs (nproc), %s, %s, Linux %s, %s %s/%s", runtime.NumCPU(), model, mem,
		strings.TrimSpace(string(kernel)), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// LoadAverage is the 1, 5 and 15 minute load averages.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// FilesystemOf names the file system a path is on, "ext4 on /dev/vda" (from /proc/self/mountinfo),
// or "unknown file system".
func FilesystemOf(path string) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "unknown file system"
	}
	best, found := "", "unknown file system"
	for _, line := range strings.Split(string(b), "\n") {
		// id parent major:minor root mount-point options [optional...] - type source super-options
		before, after, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(before), strings.Fields(after)
		if !ok || len(f) < 5 || len(g) < 2 {
			continue
		}
		mount := strings.ReplaceAll(f[4], "\\040", " ")
		inside := path == mount || strings.HasPrefix(path, strings.TrimSuffix(mount, "/")+"/")
		if inside && len(mount) >= len(best) {
			best, found = mount, g[0]+" on "+g[1]
		}
	}
	return found
}
