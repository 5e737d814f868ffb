package main

import (
	"context"
	"fmt"
	"time"

	"pcsupport/cmd/bench/internal/load"
	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// refreshResult is the token refresh check: sessions kept busy over several token lifetimes, on
// a provider of their own whose tokens are short-lived (the load runs with tokens of an hour, as
// Entra ID issues them, so that no refresh falls into a measurement).
type refreshResult struct {
	sessions  int
	lifetime  time.Duration
	effective time.Duration // how long the app uses a token before renewing it
	span      time.Duration // how long the sessions were kept busy
	refreshes int
	refused   int // refresh grants the provider refused
	min, max  int // what one refresh per token lifetime per session allows
	views     int // page views made meanwhile
	upstream  pcemu.Stats
	errors    int
	errorMsgs []string
}

func (r refreshResult) ok() bool {
	return r.refreshes >= r.min && r.refreshes <= r.max && r.refused == 0 && r.errors == 0 &&
		r.upstream.Refused == 0 && r.upstream.Gets == r.views
}

// refreshPace is how often each session of the check views the page: enough to use every token.
const refreshPace = 200 * time.Millisecond

// refreshPhase starts the stand-ins and the app anew with short-lived tokens, signs in sessions
// and has each view the page a few times a second for several token lifetimes.
func (b *bench) refreshPhase(ctx context.Context) (refreshResult, error) {
	o := b.opts
	r := refreshResult{sessions: o.refreshN, lifetime: o.refreshLife, effective: effectiveTokenLife(o.refreshLife)}
	b.logf("token refresh: %d sessions for %s, tokens of %s", r.sessions, o.refreshFor, r.lifetime)
	port, err := freePort()
	if err != nil {
		return r, err
	}
	stack, err := startStandIns(callbackURL(port), o.refreshLife, devidp.Personas())
	if err != nil {
		return r, err
	}
	defer stack.Close()
	app, _, err := startApp(b.env.appBin, stack, appConfig{port: port, dataDir: b.scratch("refresh")}, o.appEnv)
	if err != nil {
		return r, err
	}
	defer app.stop()
	sessions, err := signInMany(ctx, r.sessions, app.url)
	if err != nil {
		return r, fmt.Errorf("token refresh: %w\napp log:\n%s", err, app.Logs)
	}

	before, up0 := stack.Provider.Stats(), stack.Emulator.Stats()
	lr := load.Run(ctx, load.Spec{Workers: r.sessions, Measure: o.refreshFor, MaxRequests: 1_000_000, Drain: 30 * time.Second},
		func(ctx context.Context, w int) (int, error) {
			err := sessions[w].view(ctx)
			sessions[w].lastUsed = time.Now()
			select {
			case <-time.After(refreshPace):
			case <-ctx.Done():
			}
			return outcomeSaved, err
		})
	after, up1 := stack.Provider.Stats(), stack.Emulator.Stats()

	r.refreshes, r.refused = after.Refreshes-before.Refreshes, after.RefusedRefreshes-before.RefusedRefreshes
	r.views, r.errors, r.errorMsgs = lr.Requests-lr.Errors, lr.Errors, lr.ErrorMsgs
	r.upstream = pcemu.Stats{Gets: up1.Gets - up0.Gets, Puts: up1.Puts - up0.Puts, Refused: up1.Refused - up0.Refused}
	r.bound(sessions)
	return r, nil
}

// bound sets how many refreshes one per token lifetime per session allows. A token is renewed
// at its first use after it has served its effective life, so at most once per effective life,
// and at least once per effective life plus the pause between two uses.
func (r *refreshResult) bound(sessions []*session) {
	for _, s := range sessions {
		span := s.lastUsed.Sub(s.signedIn)
		r.span = max(r.span, span)
		r.min += int(span / (r.effective + refreshPace + 100*time.Millisecond))
		r.max += int((span + time.Second) / r.effective)
	}
}

// signInMany signs in n sessions of the dev admin, 8 at a time.
func signInMany(ctx context.Context, n int, appURL string) ([]*session, error) {
	tr := newTransport(n)
	sessions := make([]*session, n)
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	err := forEach(ids, 8, func(i int) (err error) {
		sessions[i], err = signIn(ctx, i, appURL, "admin", tr)
		return err
	})
	return sessions, err
}
