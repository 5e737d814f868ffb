package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"pcsupport/cmd/bench/internal/load"
	"pcsupport/cmd/bench/internal/proc"
)

// The cost of recording the change history on the save path (issue 10). The app has no switch
// to turn its history off, so the same binary is measured with the history it keeps by default
// (SQLite in --data-dir) against itself with a history that fails at once: a PostgreSQL URL
// whose port refuses connections. The app then serves on, and every history call returns an
// error without any I/O (it is logged and counted). What that failing path costs is measured
// too, on page views, where the recording app reaches no database at all.
const (
	historyRecorded = "recorded" // the default: SQLite in --data-dir
	historyFailing  = "failing"  // --database-url historyDownURL
	// historyDownURL is a PostgreSQL that refuses connections: nothing listens on port 1 (only
	// root may), so every attempt fails at once.
	historyDownURL  = "postgres://bench@127.0.0.1:1/none?connect_timeout=1"
	historyDownAddr = "127.0.0.1:1"
	// The series of the app's /metrics that count failed history writes.
	failedSaveWrites    = `pcsupport_history_write_failures_total{write="save"}`
	failedObserveWrites = `pcsupport_history_write_failures_total{write="observe"}`
)

// historyResult is every window measured by the save-history comparison.
type historyResult struct {
	samples    []historySample
	filesystem string // where the SQLite file was: its commits wait for the disk
}

// historySample is one window of one variant: saves at a session count, or the calibration's
// page views.
type historySample struct {
	variant        string
	op             string // opSaveOwn, or opView for the calibration
	conc, round    int
	res            load.Result
	cpuTicks       int64 // the app's CPU time over the window and its warm-up
	systemTicks    int64 // of which in the kernel (file writes, fsync, network)
	failedSaves    int64 // history writes of saves the app counted as failed meanwhile
	failedObserves int64
}

func (s historySample) rate() float64 { return s.res.Throughput() }

func (s historySample) cpuPerRequest() time.Duration { return s.perRequest(s.cpuTicks) }

func (s historySample) perRequest(ticks int64) time.Duration {
	if s.res.Requests == 0 {
		return 0
	}
	return proc.TicksToDuration(ticks) / time.Duration(s.res.Requests)
}

// historyPhase starts the app again on the load's port, data directory and session keys, so
// that the sessions with a tenant each stay signed in, once per variant and round (the order
// alternates between rounds), and measures saves at every session count, then page views at
// the calibration's.
func (b *bench) historyPhase(ctx context.Context) (*historyResult, error) {
	if conn, err := net.DialTimeout("tcp", historyDownAddr, time.Second); err == nil {
		conn.Close()
		return nil, fmt.Errorf("something listens on %s: the failing history would not fail", historyDownAddr)
	}
	r := &historyResult{filesystem: proc.FilesystemOf(b.appCfg.dataDir)}
	for round := range b.opts.historyRounds {
		variants := []string{historyRecorded, historyFailing}
		if round%2 == 1 {
			variants[0], variants[1] = variants[1], variants[0]
		}
		for _, v := range variants {
			if err := b.historyRound(ctx, r, round, v); err != nil {
				return nil, fmt.Errorf("%s history, round %d: %w", v, round+1, err)
			}
		}
	}
	return r, nil
}

func (b *bench) historyRound(ctx context.Context, r *historyResult, round int, variant string) error {
	c := b.appCfg
	c.logFile, c.debugPort, c.databaseURL = "", 0, ""
	if variant == historyFailing {
		c.databaseURL = historyDownURL
	}
	b.logf("save-history: round %d of %d, history %s", round+1, b.opts.historyRounds, variant)
	app, _, err := startApp(b.env.appBin, b.stack, c, b.opts.appEnv)
	if err != nil {
		return err
	}
	defer app.stop()
	b.transport.CloseIdleConnections() // they were to the app stopped before
	var plan []historySample
	for _, n := range b.opts.levels {
		plan = append(plan, historySample{variant: variant, op: opSaveOwn, conc: n, round: round})
	}
	plan = append(plan, historySample{variant: variant, op: opView, conc: nearestLevel(b.opts.levels, targetSessions), round: round})
	for _, s := range plan {
		if err := b.historySample(ctx, app, &s); err != nil {
			return fmt.Errorf("%s, %s: %w\napp log:\n%s", s.op, sessionsText(s.conc), err, app.Logs)
		}
		r.samples = append(r.samples, s)
	}
	return nil
}

// historySample measures one window: each session opens the page first, as before every save
// run; the counters are read around the window.
func (b *bench) historySample(ctx context.Context, app *appProcess, s *historySample) error {
	sessions := b.own[:s.conc]
	if err := forEach(sessions, 8, func(x *session) error { return x.reload(ctx) }); err != nil {
		return err
	}
	user0, sys0, err := proc.CPUTimes(app.PID())
	if err != nil {
		return err
	}
	failed0, err := app.metrics(failedSaveWrites, failedObserveWrites)
	if err != nil {
		return err
	}
	spec := load.Spec{Workers: s.conc, Warmup: b.opts.warmup, Measure: b.opts.historyWindow, MaxRequests: b.opts.maxRequests, Drain: time.Minute}
	s.res = load.Run(ctx, spec, func(ctx context.Context, w int) (int, error) {
		if s.op == opView {
			return outcomeSaved, sessions[w].view(ctx)
		}
		return sessions[w].save(ctx)
	})
	user1, sys1, err := proc.CPUTimes(app.PID())
	if err != nil {
		return err
	}
	failed1, err := app.metrics(failedSaveWrites, failedObserveWrites)
	if err != nil {
		return err
	}
	s.cpuTicks, s.systemTicks = user1+sys1-user0-sys0, sys1-sys0
	s.failedSaves, s.failedObserves = int64(failed1[0]-failed0[0]), int64(failed1[1]-failed0[1])
	b.logf("save-history %-9s %-9s %3d sessions: %s, CPU %s per request; failed history writes: %d of saves, %d of reads",
		s.variant, s.op, s.conc, s.res, us0(s.cpuPerRequest()), s.failedSaves, s.failedObserves)
	return s.valid()
}

// valid says whether the window measured what the comparison claims: every save saved, every
// history write of the recording app written, every one of the failing app failed.
func (s historySample) valid() error {
	saved := int64(s.res.Outcomes[outcomeSaved])
	switch {
	case s.res.Errors > 0:
		return fmt.Errorf("%d errors (first: %s)", s.res.Errors, s.res.ErrorMsgs[0])
	case s.op == opSaveOwn && saved != int64(s.res.Requests):
		return fmt.Errorf("%d of %d saves saved (conflicts or nothing to save: a tenant per session should have none)", saved, s.res.Requests)
	case s.variant == historyRecorded && s.failedSaves+s.failedObserves > 0:
		return fmt.Errorf("the recording app failed %d history writes", s.failedSaves+s.failedObserves)
	case s.variant == historyFailing && s.op == opSaveOwn && s.failedSaves != saved:
		return fmt.Errorf("the failing history failed %d writes for %d saves: it does not fail every one", s.failedSaves, saved)
	}
	return nil
}
