package main

import (
	"context"
	"log/slog"

	"pcsupport/internal/config"
	"pcsupport/internal/handlers"
	"pcsupport/internal/history"
	"pcsupport/internal/metrics"
	"pcsupport/internal/notify"
)

// tuneSender, when set, changes the sender's options before it starts. Only the whole-app tests
// set it (before any app starts), to wait less between attempts and passes.
var tuneSender func(*notify.Options)

// startNotifications tells every change the history records to the configured receivers: the
// history store queues each change for them in the transaction recording it, and a sender (one
// replica at a time, through the session store's lock when replicas share Redis) delivers what
// is queued. Without receivers nothing is queued or sent (and the sender returned is nil).
func startNotifications(cfg *config.Config, store history.Store, sessions *sessionBackend, h *handlers.Handlers,
	m *metrics.Metrics, log *slog.Logger, closers *[]func()) (*notify.Sender, error) {
	store.NotifyTo(notify.Keys(cfg.NotifyReceivers))
	if len(cfg.NotifyReceivers) == 0 {
		return nil, nil
	}
	o := notify.Options{Outbox: store, Receivers: cfg.NotifyReceivers, Secret: cfg.NotifySecret,
		Link:     func(id int64) string { return notify.EntryLink(cfg.PublicURL.String(), id) },
		Company:  h.CompanyName,
		Locker:   sessions.notifyLocker, // nil: this process alone
		Observer: notify.ObserverFunc(m.NotificationAttempt),
		Logger:   log.With("component", "notify")}
	if tuneSender != nil {
		tuneSender(&o)
	}
	sender, err := notify.New(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	*closers = append(*closers, func() { cancel(); <-done })
	log.Info("notifications of changes", "receivers", len(cfg.NotifyReceivers))
	return sender, nil
}
