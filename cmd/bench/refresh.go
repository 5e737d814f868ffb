package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

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

// refreshPhase starts the stand-ins and the app anew with short-lived tokens, signs in sessions
// and has each view the page a few times a second for several token lifetimes.
func (b *bench) refreshPhase(ctx context.Context, bin, tmp string) (refreshResult, error) {
	o := b.opts
	r := refreshResult{sessions: o.refreshN, lifetime: o.refreshLife, effective: effectiveTokenLife(o.refreshLife)}
	b.logf("token refresh: %d sessions for %s, tokens of %s", r.sessions, o.refreshFor, r.lifetime)
	port, err := freePort()
	if err != nil {
		return r, err
	}
	stand, err := startStandIns(fmt.Sprintf("http://127.0.0.1:%d/auth/callback", port), o.refreshLife, devidp.Personas())
	if err != nil {
		return r, err
	}
	defer stand.close()
	app, _, err := startAppProcess(bin, appArgs(stand, port, filepath.Join(tmp, "refresh")), port, o.appEnv, "")
	if err != nil {
		return r, err
	}
	defer app.stop()

	tr := newTransport(r.sessions)
	sessions := make([]*session, r.sessions)
	ids := make([]int, r.sessions)
	for i := range ids {
		ids[i] = i
	}
	if err := forEach(ids, 8, func(i int) (err error) {
		sessions[i], err = signIn(ctx, i, app.url, "admin", tr)
		return err
	}); err != nil {
		return r, fmt.Errorf("token refresh: %w\napp log:\n%s", err, app.logs)
	}

	before, up0 := stand.idp.Stats(), stand.emu.Stats()
	const pace = 200 * time.Millisecond // a few views a second each: enough to use every token
	spec := loadSpec{conc: r.sessions, measure: o.refreshFor, maxRequests: 1_000_000, drain: 30 * time.Second}
	lr := runLoad(ctx, spec, func(ctx context.Context, w int) (saveOutcome, error) {
		s := sessions[w]
		err := s.viewApp(ctx)
		s.lastUsed = time.Now()
		select {
		case <-time.After(pace):
		case <-ctx.Done():
		}
		return outcomeSaved, err
	})
	after, up1 := stand.idp.Stats(), stand.emu.Stats()

	r.refreshes = after.Refreshes - before.Refreshes
	r.refused = after.RefusedRefreshes - before.RefusedRefreshes
	r.views = lr.requests - lr.errors
	r.errors, r.errorMsgs = lr.errors, lr.errorMsgs
	r.upstream = pcemu.Stats{Gets: up1.Gets - up0.Gets, Puts: up1.Puts - up0.Puts, Refused: up1.Refused - up0.Refused}
	for _, s := range sessions {
		span := s.lastUsed.Sub(s.signedIn)
		r.span = max(r.span, span)
		// A token is renewed at its first use after it has served its effective life, so at
		// most once per effective life, and at least once per effective life plus the pause
		// between two uses.
		r.min += int(span / (r.effective + pace + 100*time.Millisecond))
		r.max += int((span + time.Second) / r.effective)
	}
	return r, nil
}
