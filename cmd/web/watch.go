package main

import (
	"context"
	"log/slog"

	"pcsupport/internal/auth"
	"pcsupport/internal/config"
	"pcsupport/internal/history"
	"pcsupport/internal/keyedlock"
	"pcsupport/internal/metrics"
	"pcsupport/internal/notify"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/watch"
)

// startWatcher reads, every --watch-interval, the support profile of each tenant whose admin
// started a watch, with the refresh token the watch keeps in the history store (sealed with the
// session keys), so that changes made outside the app are recorded and notified with nobody
// opening it. Replicas sharing Redis share the per-tenant lock, so one checks each tenant.
func startWatcher(cfg *config.Config, store history.Store, signIn *auth.Manager, seal *auth.TokenSeal, pc *pcclient.Client,
	sessions *sessionBackend, sender *notify.Sender, m *metrics.Metrics, log *slog.Logger, closers *[]func()) {
	var locker watch.Locker = &keyedlock.Locks{} // one replica: this process alone
	if sessions.watchLocker != nil {
		locker = sessions.watchLocker
	}
	w := watch.New(watch.Options{Store: store, Tokens: signIn, Seal: seal, Profiles: pc, Locker: locker,
		Interval: cfg.WatchInterval, Logger: log.With("component", "watch"), HistoryWriteFailed: m.HistoryWriteFailed})
	if sender != nil {
		w.AfterCheck(sender.Wake) // what a check queued goes now, not at the sender's next poll
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	*closers = append(*closers, func() { cancel(); <-done })
	log.Info("watch of changes made outside the app", "interval", cfg.WatchInterval)
}
