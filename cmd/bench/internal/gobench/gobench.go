// Package gobench runs `go test -bench -benchmem` and reads its result lines, the median of
// each benchmark's runs.
package gobench

import (
	"cmp"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Line is one benchmark: the median of its runs.
type Line struct {
	Name   string
	NsOp   float64 // ns/op, the median of the runs
	Bytes  int64
	Allocs int64
	Runs   int
	Best   float64 // ns/op of the fastest run
}

// Run runs go with args (test ... -bench ... -benchmem) in dir; display is the command as typed.
func Run(goBin, dir string, args []string) (lines []Line, display string, err error) {
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	display = "go " + strings.Join(args, " ")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, display, fmt.Errorf("%s: %w\n%s", display, err, out)
	}
	lines = Parse(string(out))
	if len(lines) == 0 {
		return nil, display, fmt.Errorf("%s printed no benchmark results:\n%s", display, out)
	}
	return lines, display, nil
}

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ MB/s)?\s+(\d+) B/op\s+(\d+) allocs/op`)

// Parse reads the result lines of go test -bench -benchmem, in the order the benchmarks first
// appear, each the median of its runs (a busy machine slows single runs a lot).
func Parse(out string) []Line {
	byName := map[string][]Line{}
	var names []string
	for _, l := range strings.Split(out, "\n") {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		by, _ := strconv.ParseInt(m[3], 10, 64)
		al, _ := strconv.ParseInt(m[4], 10, 64)
		if _, seen := byName[m[1]]; !seen {
			names = append(names, m[1])
		}
		byName[m[1]] = append(byName[m[1]], Line{Name: m[1], NsOp: ns, Bytes: by, Allocs: al})
	}
	var lines []Line
	for _, name := range names {
		runs := byName[name]
		slices.SortFunc(runs, func(a, b Line) int { return cmp.Compare(a.NsOp, b.NsOp) })
		med := runs[len(runs)/2]
		med.Runs, med.Best = len(runs), runs[0].NsOp
		lines = append(lines, med)
	}
	return lines
}
