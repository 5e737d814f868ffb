package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"pcsupport/internal/auth"
	"pcsupport/internal/config"
	"pcsupport/internal/handlers"
	"pcsupport/internal/keyedlock"
	"pcsupport/internal/notify"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/watch"
)

// sessionBackend is the configured session store with the locks that go with it.
type sessionBackend struct {
	store      sessionstore.Store
	locker     auth.RefreshLocker // nil: auth's in-process default, enough for one replica
	saveLocker handlers.Locker    // nil: the handlers' in-process default
	// notifyLocker lets one replica at a time send notifications; nil: notify's in-process one.
	notifyLocker notify.Locker
	// watchLocker lets one replica at a time check a tenant's watch; nil: this process alone.
	watchLocker watch.Locker
	ready       func(context.Context) error
	close       func()
}

// openSessionStore opens the store cfg names. A Redis that does not answer yet is logged, not
// fatal: the app starts and reports itself not ready, as it does for the sign-in provider.
func openSessionStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*sessionBackend, error) {
	cookies := sessionstore.CookieOptions{Path: cfg.BasePath, Secure: cfg.Secure(), Lifetime: cfg.SessionLifetime}
	switch cfg.SessionStore {
	case "redis":
		sessionstore.LogRedisTo(log)
		client, err := sessionstore.OpenRedis(cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		store := sessionstore.NewRedisStore(client, cookies, cfg.SessionKeys...)
		store.SetLogger(log)
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := store.Ping(pingCtx); err != nil {
			log.Warn("session store not reachable yet", "err", err)
		}
		return &sessionBackend{store: store, locker: keyedlock.NewRedis(client, "pcs:refresh-lock:", auth.RefreshLockTTL), ready: store.Probe,
			// Replicas share the per-partner save lock too, so that two saves from one loaded
			// version never both apply; it outlives a PUT with all its retries.
			saveLocker: keyedlock.NewRedis(client, "pcs:save-lock:", 2*cfg.PCTimeout+30*time.Second),
			// Held for a sender's pass (a minute at most) and its last attempt (10 s).
			notifyLocker: keyedlock.NewRedis(client, "pcs:notify-lock:", 2*time.Minute),
			// Held for one tenant's check (two minutes at most: the refresh and the read).
			watchLocker: keyedlock.NewRedis(client, "pcs:watch-lock:", 3*time.Minute),
			close:       func() { _ = client.Close() }}, nil
	default:
		dir := filepath.Join(cfg.DataDir, "sessions")
		store, err := sessionstore.NewFileStore(dir, cookies, cfg.SessionKeys...)
		if err != nil {
			return nil, err
		}
		store.SetLogger(log)
		sweepCtx, stopSweep := context.WithCancel(ctx)
		go sessionstore.SweepFileSessions(sweepCtx, dir, cfg.SessionLifetime, time.Hour, log)
		return &sessionBackend{store: store, ready: store.Probe, close: stopSweep}, nil
	}
}
