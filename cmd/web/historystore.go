package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"pcsupport/internal/config"
	"pcsupport/internal/history"
	"pcsupport/internal/support"
)

// historyFile is the SQLite file of the change history, in --data-dir.
const historyFile = "history.db"

// historyTrustFor is how long a replica believes what it knows of a tenant's newest history
// state before asking PostgreSQL again (see history.Cached): the line under the form may lag
// another replica's save by this much.
const historyTrustFor = 5 * time.Second

// historyBackend is the configured change history store and its retention.
type historyBackend struct {
	store history.Store
	close func()
}

// openHistoryStore opens the change history: PostgreSQL when --database-url is set (shared by
// every replica), else a SQLite file in --data-dir (nothing to set up). A PostgreSQL that does not
// answer yet is logged, not fatal: the app starts and serves, /readyz names the history store,
// and the history is kept from when the database answers. A schema newer than this binary is
// fatal: writing to it could corrupt what a newer version keeps.
func openHistoryStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*historyBackend, error) {
	var store history.Store
	if cfg.DatabaseURL == "" {
		path := filepath.Join(cfg.DataDir, historyFile)
		s, err := history.OpenSQLite(ctx, path)
		if err != nil {
			return nil, err
		}
		log.Info("change history", "store", "SQLite", "file", path)
		store = s
	} else {
		openCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := history.OpenPostgres(openCtx, cfg.DatabaseURL)
		cancel()
		switch {
		case errors.Is(err, history.ErrSchemaTooNew):
			return nil, err
		case err != nil:
			log.Warn("history store not reachable yet; trying again in the background", "err", err)
			store = openPostgresLater(cfg.DatabaseURL, log)
		default:
			log.Info("change history", "store", "PostgreSQL")
			store = s
		}
	}
	// With SQLite this process makes every write, so what it knows is always current; with
	// PostgreSQL other replicas write too, and what this one knows is asked again after a while.
	trustFor := time.Duration(0)
	if cfg.DatabaseURL != "" {
		trustFor = historyTrustFor
	}
	store = history.Cached(store, trustFor)
	retentionCtx, stopRetention := context.WithCancel(context.Background())
	retentionDone := make(chan struct{})
	go func() {
		defer close(retentionDone)
		history.RunRetention(retentionCtx, store, cfg.HistoryRetention, time.Hour, log)
	}()
	return &historyBackend{store: store, close: func() {
		stopRetention()
		<-retentionDone
		if err := store.Close(); err != nil {
			log.Warn("close the history store", "err", err)
		}
	}}, nil
}

// laterStore is a PostgreSQL history that did not answer at start: every call fails (as it would
// on a database that went away) until a background attempt opens it.
type laterStore struct {
	mu     sync.RWMutex
	opened history.Store
	closed bool
	stop   context.CancelFunc
}

var errHistoryNotOpen = errors.New("history: PostgreSQL not reachable since start")

func openPostgresLater(url string, log *slog.Logger) *laterStore {
	ctx, stop := context.WithCancel(context.Background())
	s := &laterStore{stop: stop}
	go func() {
		for wait := time.Second; ; wait = min(2*wait, time.Minute) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			openCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			opened, err := history.OpenPostgres(openCtx, url)
			cancel()
			if err != nil {
				log.Warn("history store still not reachable", "err", err, "next_attempt_in", min(2*wait, time.Minute))
				continue
			}
			if s.open(opened) {
				log.Info("change history", "store", "PostgreSQL", "reachable", "now")
			}
			return
		}
	}()
	return s
}

// open makes the store usable; false (and the store closed) when the app is closing already.
func (s *laterStore) open(st history.Store) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = st.Close()
		return false
	}
	s.opened = st
	return true
}

func (s *laterStore) get() (history.Store, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.opened == nil {
		return nil, errHistoryNotOpen
	}
	return s.opened, nil
}

func (s *laterStore) Observe(ctx context.Context, tenantID string, current support.Contact, at time.Time) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.Observe(ctx, tenantID, current, at)
}

func (s *laterStore) RecordSave(ctx context.Context, sv history.Save) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.RecordSave(ctx, sv)
}

func (s *laterStore) List(ctx context.Context, tenantID string, c history.Cursor, limit int) (history.Page, error) {
	st, err := s.get()
	if err != nil {
		return history.Page{}, err
	}
	return st.List(ctx, tenantID, c, limit)
}

func (s *laterStore) LastChange(ctx context.Context, tenantID string) (history.Entry, bool, error) {
	st, err := s.get()
	if err != nil {
		return history.Entry{}, false, err
	}
	return st.LastChange(ctx, tenantID)
}

func (s *laterStore) Export(ctx context.Context, tenantID string, fn func(history.Entry) error) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.Export(ctx, tenantID, fn)
}

func (s *laterStore) DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	st, err := s.get()
	if err != nil {
		return 0, err
	}
	return st.DeleteBefore(ctx, cutoff)
}

func (s *laterStore) Ping(ctx context.Context) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.Ping(ctx)
}

func (s *laterStore) Close() error {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.opened == nil {
		return nil
	}
	return s.opened.Close()
}
