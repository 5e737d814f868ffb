// Package watch notices changes made outside the app (in the Partner Center portal, by a
// script) with nobody opening it: every interval it reads the support profile of each tenant
// whose admin started a watch, with that person's delegated refresh token, which the app keeps
// sealed in the history store and renews at each use (Microsoft's "secure application model"),
// and records what it read as a page view does (history's Observe), so that an outside change
// is recorded and notified. A refresh token the provider refuses stops the watch and tells the
// team; any other failure is logged and tried again at the next interval.
package watch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"golang.org/x/oauth2"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

// Store is what the watcher needs of the history store.
type Store interface {
	Watch(ctx context.Context, tenantID string) (history.Watch, bool, error)
	ActiveWatches(ctx context.Context) ([]history.Watch, error)
	RenewWatchToken(ctx context.Context, tenantID, old, renewed string) (bool, error)
	WatchRead(ctx context.Context, tenantID, token string, at time.Time) error
	StopRefusedWatch(ctx context.Context, tenantID, token string, at time.Time, reason string) (bool, error)
	Observe(ctx context.Context, tenantID string, current support.Contact, at time.Time) error
}

// Tokens redeems a refresh token at the sign-in's token endpoint (auth.Manager has it).
type Tokens interface {
	RedeemRefreshToken(ctx context.Context, refresh string) (*oauth2.Token, error)
}

// Seal seals and opens the kept token (auth.TokenSeal).
type Seal interface {
	Seal(tenantID, token string) (string, error)
	Open(tenantID, sealed string) (string, error)
}

// Profiles reads the support profile (pcclient.Client).
type Profiles interface {
	GetSupportProfile(ctx context.Context, o pcclient.CallOptions) (pcclient.Profile, error)
}

// Locker hands out one lock per key (keyedlock: in process, or through Redis for replicas).
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Options configure a Watcher.
type Options struct {
	Store    Store
	Tokens   Tokens
	Seal     Seal
	Profiles Profiles
	// Locker lets one replica at a time check a tenant; replicas sharing the history must share
	// it (Redis). Required.
	Locker   Locker
	Interval time.Duration // between two passes; required
	// HistoryWriteFailed, optional, is told of each read the history did not record ("observe",
	// as for a page view's), for /metrics.
	HistoryWriteFailed func(write string)
	Logger             *slog.Logger
	Now                func() time.Time
}

// Watcher checks every active watch every interval.
type Watcher struct {
	o          Options
	afterCheck func()
}

// AfterCheck has fn called after each check that recorded a read or stopped a watch (the
// notifications' sender is woken, so that what it queued goes at once). Call before Run.
func (w *Watcher) AfterCheck(fn func()) { w.afterCheck = fn }

func (w *Watcher) checked() {
	if w.afterCheck != nil {
		w.afterCheck()
	}
}

// New returns a Watcher.
func New(o Options) *Watcher {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Watcher{o: o}
}

// lockWait is how long a pass waits for a tenant's lock: another replica holding it is
// checking that tenant now, and this one need not.
const lockWait = 2 * time.Second

// checkTimeout bounds one tenant's check: the refresh and the read with its retries.
const checkTimeout = 2 * time.Minute

// Run checks every active watch at every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Pass(ctx)
		}
	}
}

// Pass checks every active watch once.
func (w *Watcher) Pass(ctx context.Context) {
	watches, err := w.o.Store.ActiveWatches(ctx)
	if err != nil {
		w.o.Logger.Warn("watch: cannot list the watches; trying again at the next interval", "err", err)
		return
	}
	for _, wt := range watches {
		if ctx.Err() != nil {
			return
		}
		w.checkLocked(ctx, wt.TenantID)
	}
}

// checkLocked checks the tenant's watch under its lock, as the store has it then: another
// replica may have just renewed its token.
func (w *Watcher) checkLocked(ctx context.Context, tenantID string) {
	lockCtx, cancel := context.WithTimeout(ctx, lockWait)
	unlock, err := w.o.Locker.Lock(lockCtx, tenantID)
	cancel()
	if err != nil {
		w.o.Logger.Debug("watch: another replica checks this tenant", "tenant_id", tenantID, "err", err)
		return
	}
	defer unlock()
	ctx, cancel = context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	wt, ok, err := w.o.Store.Watch(ctx, tenantID)
	switch {
	case err != nil:
		w.o.Logger.Warn("watch: cannot read the watch; trying again at the next interval", "tenant_id", tenantID, "err", err)
		return
	case !ok || !wt.Active:
		return // stopped meanwhile
	case !wt.LastReadAt.IsZero() && w.o.Now().Sub(wt.LastReadAt) < w.o.Interval/2:
		return // another replica read it lately
	}
	w.check(ctx, wt)
}

// check renews the watch's token, reads the profile with it and records what it found.
func (w *Watcher) check(ctx context.Context, wt history.Watch) {
	log := w.o.Logger.With("tenant_id", wt.TenantID, "started_by", wt.StartedBy.Username)
	refresh, err := w.o.Seal.Open(wt.TenantID, wt.Token)
	if err != nil {
		w.stop(ctx, log, wt, "The kept sign-in cannot be read with the session keys (they were changed).")
		return
	}
	tok, err := w.o.Tokens.RedeemRefreshToken(ctx, refresh)
	if err != nil {
		var refused *auth.RefusedError
		if errors.As(err, &refused) {
			w.stop(ctx, log, wt, refused.Error())
			return
		}
		log.Warn("watch: the sign-in provider did not renew the token; trying again at the next interval", "err", err)
		return
	}
	token := wt.Token
	if tok.RefreshToken != "" && tok.RefreshToken != refresh {
		// Stored before anything else: the provider accepts the old one no more.
		sealed, err := w.o.Seal.Seal(wt.TenantID, tok.RefreshToken)
		if err != nil {
			log.Error("watch: cannot seal the renewed token", "err", err)
			return
		}
		renewed, err := w.o.Store.RenewWatchToken(ctx, wt.TenantID, wt.Token, sealed)
		switch {
		case err != nil:
			log.Error("watch: the renewed token was not stored; the watch may stop at the next interval", "err", err)
			return
		case !renewed:
			return // stopped or started again meanwhile: that watch has its own token
		}
		token = sealed
	}
	sent := w.o.Now()
	p, err := w.o.Profiles.GetSupportProfile(ctx, pcclient.CallOptions{Token: oauth2.StaticTokenSource(tok), CorrelationID: pcclient.NewID()})
	if err != nil {
		log.Warn("watch: cannot read the support profile; trying again at the next interval", "err", err)
		return
	}
	if err := w.o.Store.Observe(ctx, wt.TenantID, p.Contact, sent); err != nil {
		log.Error("watch: change history not written; trying again at the next interval", "err", err)
		if w.o.HistoryWriteFailed != nil {
			w.o.HistoryWriteFailed("observe")
		}
		return
	}
	w.checked()
	if err := w.o.Store.WatchRead(ctx, wt.TenantID, token, sent); err != nil {
		log.Warn("watch: the time of the read was not stored", "err", err)
	}
	log.Debug("watch: support profile read")
}

// stop stops the watch for good: its token can no longer be used.
func (w *Watcher) stop(ctx context.Context, log *slog.Logger, wt history.Watch, reason string) {
	stopped, err := w.o.Store.StopRefusedWatch(ctx, wt.TenantID, wt.Token, w.o.Now(), reason)
	switch {
	case err != nil:
		log.Error("watch: the refused watch could not be stopped; trying again at the next interval", "reason", reason, "err", err)
	case stopped:
		log.Warn("watch stopped: an admin must start it again", "reason", reason)
		w.checked()
	}
}
