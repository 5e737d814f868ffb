package main

import (
	"cmp"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// benchLine is one result line of go test -bench -benchmem.
type benchLine struct {
	name   string
	nsOp   float64 // the median of the runs
	bytes  int64
	allocs int64
	runs   int
	best   float64 // ns/op of the fastest run
}

var benchLineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ MB/s)?\s+(\d+) B/op\s+(\d+) allocs/op`)

// renderBenchmarks runs the views' render benchmarks and reads their lines.
func renderBenchmarks(goBin, root string, short bool) ([]benchLine, string, error) {
	// Five counts, and the median of each: a busy machine slows single runs a lot.
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkRender", "-benchmem", "-count", "5"}
	if short {
		args = []string{"test", "-run", "^$", "-bench", "^BenchmarkRender", "-benchmem", "-count", "1", "-benchtime", "2000x"}
	}
	args = append(args, "./internal/views")
	cmd := exec.Command(goBin, args...)
	cmd.Dir = root
	display := "go " + strings.Join(args, " ")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, display, fmt.Errorf("%s: %w\n%s", display, err, out)
	}
	byName := map[string][]benchLine{}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		m := benchLineRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		by, _ := strconv.ParseInt(m[3], 10, 64)
		al, _ := strconv.ParseInt(m[4], 10, 64)
		if _, seen := byName[m[1]]; !seen {
			names = append(names, m[1])
		}
		byName[m[1]] = append(byName[m[1]], benchLine{name: m[1], nsOp: ns, bytes: by, allocs: al})
	}
	var lines []benchLine
	for _, name := range names {
		runs := byName[name]
		slices.SortFunc(runs, func(a, b benchLine) int { return cmp.Compare(a.nsOp, b.nsOp) })
		med := runs[len(runs)/2]
		med.runs, med.best = len(runs), runs[0].nsOp
		lines = append(lines, med)
	}
	if len(lines) == 0 {
		return nil, display, fmt.Errorf("%s printed no benchmark results:\n%s", display, out)
	}
	return lines, display, nil
}
