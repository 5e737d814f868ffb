// Command bench measures the app against the floor set by Partner Center itself: a page view
// through the app against the same GET through a bare reverse proxy, a save against a bare GET
// and PUT, at 1, 50 and 200 concurrent sessions, with an instant upstream and with 50 ms of
// upstream latency; and page weight, start-up time, binary size, memory, render cost, how many
// upstream calls each scenario made, and one token refresh per token lifetime per session. It
// checks the targets of BENCHMARKS.md.
//
// The app runs as it ships: cmd/web is built as the Dockerfile builds it and started as a child
// process in production mode (no --dev), pointed at the development sign-in provider and the
// Partner Center emulator, which run in this process. The bare proxy runs as a child process too,
// so both compete for the CPUs alike. Every connection is to 127.0.0.1.
//
//	go run ./cmd/bench            # the full run (about seven minutes)
//	go run ./cmd/bench --short    # about a minute; what CI runs so the command cannot rot
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Exit codes: 1 the bench itself failed (it could not measure), 3 a target was missed and
// --strict was given.
const (
	exitBroken = 1
	exitMissed = 3
)

type options struct {
	short         bool
	strict        bool
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
	ops           map[string]bool // operations to measure; nil is all
}

func main() {
	// The bare proxy is this binary started again in proxy mode.
	if len(os.Args) == 3 && os.Args[1] == "--proxy-child" {
		if err := runProxyChild(os.Args[2], os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "bench proxy:", err)
			os.Exit(1)
		}
		return
	}
	// The dev provider's library logs every route it registers through slog's default.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	os.Exit(code)
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	var levels string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.short, "short", false, "a run of seconds with few sessions, to check that the bench works (CI); misses are printed, not failed")
	fs.BoolVar(&o.strict, "strict", false, "exit with status 3 when a target is missed")
	fs.StringVar(&levels, "sessions", "", "concurrent session counts, comma separated (default 1,50,200; short 1,4,16)")
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
	var ops string
	fs.StringVar(&ops, "ops", "view,save,save-own", "operations to measure, comma separated: view, save (shared tenant), save-own (tenant per session)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/bench [flags]\n\nMeasures the app against a bare proxy in front of the Partner Center emulator. See BENCHMARKS.md.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	def := func(d *time.Duration, full, short time.Duration) {
		if *d == 0 {
			*d = full
			if o.short {
				*d = short
			}
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
		o.refreshN = 50
		if o.short {
			o.refreshN = 8
		}
	}
	if o.refreshFor <= effectiveTokenLife(o.refreshLife) {
		return o, errors.New("--refresh-for must be longer than three quarters of --refresh-token-lifetime, or no token is renewed")
	}
	if o.starts == 0 {
		o.starts = 10
		if o.short {
			o.starts = 2
		}
	}
	if levels == "" {
		levels = "1,50,200"
		if o.short {
			levels = "1,4,16"
		}
	}
	for _, f := range strings.Split(levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			return o, fmt.Errorf("--sessions: %q is not a count between 1 and 1000", f)
		}
		o.levels = append(o.levels, n)
	}
	o.ops = map[string]bool{}
	for _, op := range strings.Split(ops, ",") {
		switch op = strings.TrimSpace(op); op {
		case "view", "save", "save-own":
			o.ops[op] = true
		default:
			return o, fmt.Errorf("--ops: unknown operation %q (want view, save, save-own)", op)
		}
	}
	// The proxy's token library renews 10 s before expiry; a shorter life would renew every call.
	if o.tokenLifetime < 15*time.Second {
		return o, errors.New("--token-lifetime must be at least 15s")
	}
	o.maxRequests = 2_000_000
	if o.short {
		o.maxRequests = 20_000
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return 2, err
	}
	b := &bench{opts: o, log: stderr}
	rep, err := b.run(ctx)
	if err != nil {
		return exitBroken, err
	}
	text := rep.markdown()
	fmt.Fprint(stdout, text)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
			return exitBroken, err
		}
	}
	if len(rep.broken) > 0 {
		return exitBroken, fmt.Errorf("the bench could not measure everything:\n  %s", strings.Join(rep.broken, "\n  "))
	}
	if misses := rep.misses(); misses > 0 {
		fmt.Fprintf(stderr, "bench: %d target(s) missed (see the report)\n", misses)
		if o.strict {
			return exitMissed, nil
		}
	}
	return 0, nil
}
