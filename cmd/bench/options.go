package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

type options struct {
	short         bool
	strict        bool
	runs          int
	levels        []int
	warmup        time.Duration
	measure       time.Duration
	saveMeasure   time.Duration
	latency       time.Duration
	tokenLifetime time.Duration
	starts        int
	maxRequests   int64
	render        bool
	out           string
	idle          time.Duration
	refresh       bool
	refreshLife   time.Duration
	refreshFor    time.Duration
	refreshN      int
	appEnv        []string
	appLog        string
	profileDir    string
	ops           map[string]bool // operations to measure, by flag name
}

// flagText is what is read as text first and parsed after the defaults are known.
type flagText struct{ levels, ops string }

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	var txt flagText
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defineFlags(fs, &o, &txt)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/bench [flags]\n\nMeasures the app against a bare proxy in front of the Partner Center emulator. See BENCHMARKS.md.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.fillDefaults()
	var err error
	if o.levels, err = parseLevels(txt.levels, o.short); err != nil {
		return o, err
	}
	if o.ops, err = parseOps(txt.ops); err != nil {
		return o, err
	}
	return o, o.check()
}

func defineFlags(fs *flag.FlagSet, o *options, txt *flagText) {
	fs.BoolVar(&o.short, "short", false, "a run of seconds with few sessions, to check that the bench works (CI); misses are printed, not failed")
	fs.BoolVar(&o.strict, "strict", false, "exit with status 3 when a target is missed")
	fs.IntVar(&o.runs, "runs", 1, "full runs; with more than one, targets are checked on the median of the runs")
	fs.StringVar(&txt.levels, "sessions", "", "concurrent session counts, comma separated (default 1,50,200; short 1,4,16)")
	fs.DurationVar(&o.measure, "measure", 0, "measurement window of each page-view run (default 5s; short 600ms)")
	fs.DurationVar(&o.saveMeasure, "save-measure", 0, "measurement window of each save run (default 8s; short 600ms)")
	fs.DurationVar(&o.warmup, "warmup", 0, "warm-up before each window (default 1s; short 200ms)")
	fs.DurationVar(&o.latency, "latency", 50*time.Millisecond, "injected upstream latency of the slow runs")
	fs.DurationVar(&o.tokenLifetime, "token-lifetime", 0, "access token lifetime of the dev provider during the load, as Entra ID's (default 1h)")
	fs.IntVar(&o.starts, "starts", 0, "how many times to start the app to time start-up (default 10; short 2)")
	fs.BoolVar(&o.render, "render", true, "run the form render benchmark (go test -bench) after the load")
	fs.StringVar(&o.out, "out", "", "also write the report to this file")
	fs.DurationVar(&o.idle, "idle", 0, "how long the app idles after the load before its memory is read again (default 10s; short 1s)")
	fs.BoolVar(&o.refresh, "refresh", true, "check token refreshes: sessions busy for several lifetimes of short-lived tokens, after the load")
	fs.DurationVar(&o.refreshLife, "refresh-token-lifetime", 0, "token lifetime of the refresh check (default 30s; short 10s)")
	fs.DurationVar(&o.refreshFor, "refresh-for", 0, "how long the refresh check keeps its sessions busy (default 80s; short 14s)")
	fs.IntVar(&o.refreshN, "refresh-sessions", 0, "sessions of the refresh check (default 50; short 8)")
	fs.Func("app-env", "KEY=VALUE added to the app's environment, for experiments such as GOMEMLIMIT=40MiB or GODEBUG=gctrace=1 (repeatable)",
		func(v string) error {
			if !strings.Contains(v, "=") {
				return errors.New("want KEY=VALUE")
			}
			o.appEnv = append(o.appEnv, v)
			return nil
		})
	fs.StringVar(&o.appLog, "app-log", "", "write the app's log (stderr) to this file")
	fs.StringVar(&o.profileDir, "profile-dir", "", "save CPU and allocation profiles of the app (cpu.pprof, allocs.pprof) during an extra 50-session page-view phase, "+
		"and print their top functions; the app is then built with -tags nodev,debuglisten")
	fs.StringVar(&txt.ops, "ops", "view,save,save-own", "operations to measure, comma separated: view, save (shared tenant), save-own (tenant per session)")
}

// fillDefaults sets what was not given, for a full or a short run.
func (o *options) fillDefaults() {
	def := func(d *time.Duration, full, short time.Duration) {
		if *d == 0 {
			*d = pick(o.short, full, short)
		}
	}
	def(&o.measure, 5*time.Second, 600*time.Millisecond)
	def(&o.saveMeasure, 8*time.Second, 600*time.Millisecond)
	def(&o.warmup, time.Second, 200*time.Millisecond)
	def(&o.tokenLifetime, time.Hour, time.Hour)
	def(&o.idle, 10*time.Second, time.Second)
	def(&o.refreshLife, 30*time.Second, 10*time.Second)
	def(&o.refreshFor, 80*time.Second, 14*time.Second)
	if o.refreshN == 0 {
		o.refreshN = pick(o.short, 50, 8)
	}
	if o.starts == 0 {
		o.starts = pick(o.short, 10, 2)
	}
	o.maxRequests = pick[int64](o.short, 2_000_000, 20_000)
}

func pick[T any](short bool, full, shortValue T) T {
	if short {
		return shortValue
	}
	return full
}

func (o *options) check() error {
	if o.refreshFor <= effectiveTokenLife(o.refreshLife) {
		return errors.New("--refresh-for must be longer than three quarters of --refresh-token-lifetime, or no token is renewed")
	}
	// The proxy's token library renews 10 s before expiry; a shorter life would renew every call.
	if o.tokenLifetime < 15*time.Second {
		return errors.New("--token-lifetime must be at least 15s")
	}
	if o.runs < 1 || o.runs > 20 {
		return errors.New("--runs must be between 1 and 20")
	}
	return nil
}

func parseLevels(text string, short bool) ([]int, error) {
	if text == "" {
		text = pick(short, "1,50,200", "1,4,16")
	}
	var levels []int
	for _, f := range strings.Split(text, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			return nil, fmt.Errorf("--sessions: %q is not a count between 1 and 1000", f)
		}
		levels = append(levels, n)
	}
	return levels, nil
}

func parseOps(text string) (map[string]bool, error) {
	ops := map[string]bool{}
	for _, op := range strings.Split(text, ",") {
		op = strings.TrimSpace(op)
		if _, ok := opNames[op]; !ok {
			return nil, fmt.Errorf("--ops: unknown operation %q (want view, save, save-own)", op)
		}
		ops[op] = true
	}
	return ops, nil
}

// effectiveTokenLife is how long the app uses an access token before it renews it: two minutes
// before expiry, or after three quarters of its life for short-lived tokens (internal/auth).
func effectiveTokenLife(life time.Duration) time.Duration {
	return life - min(2*time.Minute, life/4)
}
