package main

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"pcsupport/internal/config/settings"
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
	historyRounds int             // rounds of the save-history comparison, each variant once per round
	historyWindow time.Duration   // its measurement window
}

const usageIntro = `Measures the app against a bare proxy in front of the Partner Center emulator. See BENCHMARKS.md.
The bench reads no environment variable: every setting is a flag.`

// declared is every flag of the bench, declared once (name, default, help). Defaults that differ
// between a full and a short run are empty here and filled by fillDefaults; their help says both.
type declared struct {
	short, strict, runs, sessions, ops                         *settings.Setting
	measure, saveMeasure, warmup, latency, tokenLifetime, idle *settings.Setting
	starts, render, out, appEnv, appLog, profileDir            *settings.Setting
	refresh, refreshLife, refreshFor, refreshN                 *settings.Setting
	historyRounds, historyWindow                               *settings.Setting
}

func declare(s *settings.Set) *declared {
	return &declared{
		short:    s.Bool("short", "", "a run of seconds with few sessions, to check that the bench works (CI); misses are printed, not failed, but the flood's checks fail the bench in every mode"),
		strict:   s.Bool("strict", "", "exit with status 3 when a target is missed"),
		runs:     s.String("runs", "", "1", "full `runs`; with more than one, targets are checked on the median of the runs"),
		sessions: s.String("sessions", "", "", "concurrent session `counts`, comma separated (default 1,50,200; short 1,4,16)"),
		ops: s.String("ops", "", "view,save,save-own,flood,save-history,save-exports", "`operations` to measure, comma separated: view, save (shared tenant), "+
			"save-own (tenant per session), flood (anonymous requests to an app of its own: what it keeps and its memory; fails the bench "+
			"even with --short), save-history (saves with the change history recorded against the same app with its history failing), "+
			"save-exports (saves with four downloads of a long history held open by slow readers against the same app with none)"),
		measure:       s.String("measure", "", "", "measurement `window` of each page-view run (default 5s; short 600ms)"),
		saveMeasure:   s.String("save-measure", "", "", "measurement `window` of each save run (default 8s; short 600ms)"),
		warmup:        s.String("warmup", "", "", "`warm-up` before each window (default 1s; short 200ms)"),
		latency:       s.String("latency", "", "50ms", "injected upstream `latency` of the slow runs"),
		tokenLifetime: s.String("token-lifetime", "", "1h", "access token `lifetime` of the dev provider during the load, as Entra ID's"),
		starts:        s.String("starts", "", "", "how many `times` to start the app to time start-up (default 10; short 2)"),
		render:        onByDefault(s.Bool("render", "", "run the form render benchmark (go test -bench) after the load (default true; --render=false skips it)")),
		out:           s.String("out", "", "", "also write the report to this `file`"),
		idle:          s.String("idle", "", "", "how `long` the app idles after the load before its memory is read again (default 10s; short 1s)"),
		refresh: onByDefault(s.Bool("refresh", "", "check token refreshes: sessions busy for several lifetimes of short-lived tokens, after the load "+
			"(default true; --refresh=false skips it)")),
		refreshLife: s.String("refresh-token-lifetime", "", "", "token `lifetime` of the refresh check (default 30s; short 10s)"),
		refreshFor:  s.String("refresh-for", "", "", "how `long` the refresh check keeps its sessions busy (default 80s; short 14s)"),
		refreshN:    s.String("refresh-sessions", "", "", "`sessions` of the refresh check (default 50; short 8)"),
		appEnv: s.List("app-env", "", "`KEY=VALUE` added to the app's environment, for experiments such as GOMEMLIMIT=40MiB or GODEBUG=gctrace=1 "+
			"(repeatable; GODEBUG=gctrace=1,madvdontneed=1 stays one)"),
		historyRounds: s.String("history-rounds", "", "", "`rounds` of save-history and of save-exports: each round measures both variants, alternating "+
			"which goes first; the noise is the spread of the rounds (default 3; short 2)"),
		historyWindow: s.String("history-measure", "", "", "measurement `window` of each save-history and save-exports run (default 3s; short 600ms)"),
		appLog:        s.String("app-log", "", "", "write the app's log (stderr) to this `file`"),
		profileDir: s.String("profile-dir", "", "", "save CPU and allocation profiles of the app (cpu.pprof, allocs.pprof) in this `directory` during an extra "+
			"50-session page-view phase, and print their top functions; the app is then built with -tags nodev,debuglisten"),
	}
}

// onByDefault makes a switch on unless --name=false is given (settings.Bool is off by default).
func onByDefault(st *settings.Setting) *settings.Setting {
	st.Default = "true"
	return st
}

// parseOptions reads the flags; every problem found is reported together, in one message.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	s := settings.New("go run ./cmd/bench", settings.ByFlag, usageIntro)
	d := declare(s)
	if err := s.Parse(args, func(string) string { return "" }, stderr); err != nil {
		return options{}, err
	}
	o := options{short: d.short.Bool(), strict: d.strict.Bool(), runs: d.runs.Count(),
		latency: d.latency.Duration(), tokenLifetime: d.tokenLifetime.Duration(),
		measure: optionalDuration(d.measure), saveMeasure: optionalDuration(d.saveMeasure), warmup: optionalDuration(d.warmup),
		idle: optionalDuration(d.idle), refreshLife: optionalDuration(d.refreshLife), refreshFor: optionalDuration(d.refreshFor),
		starts: d.starts.Count(), refreshN: d.refreshN.Count(), render: d.render.Bool(), refresh: d.refresh.Bool(),
		out: d.out.Value(), appLog: d.appLog.Value(), profileDir: d.profileDir.Value(),
		historyRounds: d.historyRounds.Count(), historyWindow: optionalDuration(d.historyWindow)}
	o.appEnv = appEnvironment(s, d.appEnv)
	o.levels = parseLevels(s, d.sessions, o.short)
	o.ops = parseOps(s, d.ops)
	o.fillDefaults()
	_, runsErr := strconv.Atoi(d.runs.Value())
	o.check(s, runsErr == nil) // else --runs was no number, reported already
	return o, s.Err()
}

// optionalDuration is a duration flag whose default depends on --short: 0 when not given.
func optionalDuration(st *settings.Setting) time.Duration {
	if st.Value() == "" {
		return 0
	}
	return st.Duration()
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
	def(&o.idle, 10*time.Second, time.Second)
	def(&o.refreshLife, 30*time.Second, 10*time.Second)
	def(&o.refreshFor, 80*time.Second, 14*time.Second)
	def(&o.historyWindow, 3*time.Second, 600*time.Millisecond)
	if o.historyRounds == 0 {
		o.historyRounds = pick(o.short, 3, 2)
	}
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

// check records the problems of values that are each valid alone but not together.
func (o *options) check(s *settings.Set, runsGiven bool) {
	if o.refreshFor <= effectiveTokenLife(o.refreshLife) {
		s.Problem("--refresh-for must be longer than three quarters of --refresh-token-lifetime, or no token is renewed")
	}
	// The proxy's token library renews 10 s before expiry; a shorter life would renew every call.
	if o.tokenLifetime > 0 && o.tokenLifetime < 15*time.Second {
		s.Problem("--token-lifetime must be at least 15s")
	}
	if o.runs > 20 || o.runs < 1 && runsGiven {
		s.Problem("--runs must be between 1 and 20")
	}
}

func parseLevels(s *settings.Set, st *settings.Setting, short bool) []int {
	text := st.Value()
	if text == "" {
		text = pick(short, "1,50,200", "1,4,16")
	}
	var levels []int
	for _, f := range strings.Split(text, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			s.Problem("%s: %q is not a count between 1 and 1000", st.Name(), f)
			continue
		}
		levels = append(levels, n)
	}
	if len(levels) == 0 {
		levels = []int{1} // the problem is reported; later checks need a level
	}
	return levels
}

func parseOps(s *settings.Set, st *settings.Setting) map[string]bool {
	ops := map[string]bool{}
	for _, op := range strings.Split(st.Value(), ",") {
		op = strings.TrimSpace(op)
		if !slices.Contains(allOps, op) {
			s.Problem("%s: unknown operation %q (want %s)", st.Name(), op, strings.Join(allOps, ", "))
			continue
		}
		ops[op] = true
	}
	return ops
}

// appEnvironment reads --app-env's KEY=VALUE items. The settings package splits a list at commas,
// and GODEBUG's own value is a comma-separated list of lower-case name=value pairs: an item whose
// name is not an environment variable's (upper case) continues the item before it.
func appEnvironment(s *settings.Set, st *settings.Setting) []string {
	var env []string
	for _, item := range st.Values() {
		name, _, ok := strings.Cut(item, "=")
		switch {
		case !ok || name == "":
			s.Problem("%s %q: want KEY=VALUE", st.Name(), item)
		case !isVariableName(name) && len(env) > 0:
			env[len(env)-1] += "," + item
		default:
			env = append(env, item)
		}
	}
	return env
}

func isVariableName(name string) bool {
	for _, r := range name {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// effectiveTokenLife is how long the app uses an access token before it renews it: two minutes
// before expiry, or after three quarters of its life for short-lived tokens (internal/auth).
func effectiveTokenLife(life time.Duration) time.Duration {
	return life - min(2*time.Minute, life/4)
}
