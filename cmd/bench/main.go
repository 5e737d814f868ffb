// Command bench measures the app against the floor set by Partner Center itself: a page view
// through the app against the same GET through a bare reverse proxy, a save against a bare GET
// and PUT, at 1, 50 and 200 concurrent sessions, with an instant upstream and with 50 ms of
// upstream latency. The headline is the CPU time the app's process spends per request against
// the proxy's; throughput and latency percentiles come second. It also measures allocations per
// request, page weight, start-up, binary size, memory and render cost, counts upstream calls
// and token refreshes, and checks the targets of BENCHMARKS.md. Apart from the proxy it floods
// an app of its own with anonymous requests (what the app keeps and its memory must not grow;
// a failure fails the bench in every mode), and measures what recording the change history
// costs a save (the same app with its history failing as the baseline).
//
// The app runs as it ships: cmd/web built with the Dockerfile's command and started as a child
// process in production mode, pointed at the development stand-ins (internal/devstack), which
// run in this process with the load generator. The bare proxy is a child process too (this
// binary started again), so each side's CPU time is its own. Every connection is to 127.0.0.1.
//
//	go run ./cmd/bench                   # one full run (about nine minutes)
//	go run ./cmd/bench --runs 3          # three full runs, targets checked on the medians
//	go run ./cmd/bench --short           # about a minute; what CI runs so the command cannot rot
//	go run ./cmd/bench --profile-dir DIR # also CPU and allocation profiles of the app
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
	"strings"
	"syscall"

	"pcsupport/cmd/bench/internal/floor"
)

// Exit codes: 1 the bench itself failed (it could not measure), 3 a target was missed and
// --strict was given, 4 a check that must hold in every mode failed (the anonymous flood: a
// security property, not a speed target), with or without --strict and --short.
const (
	exitBroken = 1
	exitMissed = 3
	exitUnsafe = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) == 3 && os.Args[1] == floor.ChildArg {
		if err := floor.Serve(ctx, os.Args[2], os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "bench proxy:", err)
			os.Exit(1)
		}
		return
	}
	// The dev provider's library logs every route it registers through slog's default.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return 2, err
	}
	env, err := prepare(o, stderr)
	if err != nil {
		return exitBroken, err
	}
	defer env.cleanup()
	rep := &report{opts: o, machine: env.machine, binarySize: env.binarySize}
	for i := range o.runs {
		b := &bench{opts: o, env: env, log: stderr, first: i == 0}
		b.logf("run %d of %d", i+1, o.runs)
		r, err := b.run(ctx)
		if err != nil {
			return exitBroken, err
		}
		rep.runs = append(rep.runs, r)
	}
	return finish(rep, stdout, stderr)
}

// finish prints the report and chooses the exit code.
func finish(rep *report, stdout, stderr io.Writer) (int, error) {
	text := rep.markdown()
	fmt.Fprint(stdout, text)
	if rep.opts.out != "" {
		if err := os.WriteFile(rep.opts.out, []byte(text), 0o644); err != nil {
			return exitBroken, err
		}
	}
	if broken := rep.broken(); len(broken) > 0 {
		return exitBroken, fmt.Errorf("the bench could not measure everything:\n  %s", strings.Join(broken, "\n  "))
	}
	if failed := rep.failedGuarantees(); len(failed) > 0 {
		fmt.Fprintf(stderr, "bench: failed, in any mode:\n  %s\n", strings.Join(failed, "\n  "))
		return exitUnsafe, nil
	}
	if misses := rep.misses(); misses > 0 {
		fmt.Fprintf(stderr, "bench: %d target(s) missed (see the report)\n", misses)
		if rep.opts.strict {
			return exitMissed, nil
		}
	}
	return 0, nil
}
