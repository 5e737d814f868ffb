package history

import (
	"context"
	"log/slog"
	"time"
)

// RunRetention deletes entries older than keep (never a tenant's newest) at once and then every
// interval (an hour when every <= 0), until ctx ends; keep <= 0 keeps everything and returns at
// once. Failures are logged and tried again at the next interval.
func RunRetention(ctx context.Context, store Store, keep, every time.Duration, log *slog.Logger) {
	if keep <= 0 {
		log.Info("history retention off: entries are kept forever")
		return
	}
	if every <= 0 {
		every = time.Hour
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		cutoff := time.Now().Add(-keep)
		n, err := store.DeleteBefore(ctx, cutoff)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("history retention failed", "err", err)
		case n > 0:
			log.Info("history retention deleted old entries", "deleted", n, "before", cutoff.UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
