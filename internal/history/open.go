package history

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"pcsupport/internal/notify"
	"pcsupport/internal/support"
)

// File is the SQLite file of the change history, in the data directory.
const File = "history.db"

// trustPostgresFor is how long a replica believes what it knows of a tenant's newest state
// before asking PostgreSQL again (see Cached): the line under the form may lag another
// replica's save by this much.
const trustPostgresFor = 5 * time.Second

// Options say which change history to open.
type Options struct {
	DataDir     string        // where the SQLite file lives when DatabaseURL is ""
	DatabaseURL string        // PostgreSQL, shared by every replica
	Retention   time.Duration // how long entries are kept; 0 keeps them forever
	Logger      *slog.Logger
}

// Open opens the change history: PostgreSQL when o.DatabaseURL is set (shared by every replica),
// else a SQLite file in o.DataDir (nothing to set up), behind Cached, with retention running
// until Close. A PostgreSQL that does not answer yet is logged, not fatal: the store fails every
// call until a background attempt opens it. A schema a newer binary migrated is logged when this
// one can use it (after a rollback; nothing is migrated), fatal when it cannot: writing to it
// could corrupt what the newer version keeps.
func Open(ctx context.Context, o Options) (Store, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	var store Store
	if o.DatabaseURL == "" {
		path := filepath.Join(o.DataDir, File)
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			return nil, err
		}
		log.Info("change history", "store", "SQLite", "file", path)
		logNewerSchema(log, &s.sqlStore)
		store = s
	} else {
		openCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := OpenPostgres(openCtx, o.DatabaseURL)
		cancel()
		switch {
		case errors.Is(err, ErrSchemaTooNew):
			return nil, err
		case err != nil:
			log.Warn("history store not reachable yet; trying again in the background", "err", err)
			store = openPostgresLater(o.DatabaseURL, log)
		default:
			log.Info("change history", "store", "PostgreSQL")
			logNewerSchema(log, &s.sqlStore)
			store = s
		}
	}
	// With SQLite this process makes every write, so what it knows is always current; with
	// PostgreSQL other replicas write too, and what this one knows is asked again after a while.
	trustFor := time.Duration(0)
	if o.DatabaseURL != "" {
		trustFor = trustPostgresFor
	}
	store = Cached(store, trustFor)
	retentionCtx, stopRetention := context.WithCancel(context.Background())
	retentionDone := make(chan struct{})
	go func() {
		defer close(retentionDone)
		RunRetention(retentionCtx, store, o.Retention, time.Hour, log)
	}()
	return &withRetention{Store: store, stop: func() { stopRetention(); <-retentionDone }}, nil
}

// logNewerSchema tells when s runs on a schema that a newer binary migrated, which this one can
// use: after a rollback, the operator sees that it runs as it should, and migrates nothing.
func logNewerSchema(log *slog.Logger, s *sqlStore) {
	if st := s.schema; st.version > st.known {
		log.Warn("history schema is newer than this version knows, but usable: nothing migrated",
			"store", s.d.name, "schema_version", st.version, "this_version_knows_up_to", st.known, "oldest_reader", st.oldestReader)
	}
}

// withRetention is a store whose retention loop ends when it is closed.
type withRetention struct {
	Store
	stop func()
}

func (s *withRetention) Close() error {
	s.stop()
	return s.Store.Close()
}

// laterStore is a PostgreSQL history that did not answer at start: every call fails (as it would
// on a database that went away) until a background attempt opens it.
type laterStore struct {
	mu        sync.RWMutex
	opened    Store
	receivers []string // NotifyTo's, for when it opens
	closed    bool
	stop      context.CancelFunc
}

var errNotOpenYet = errors.New("history: PostgreSQL not reachable since start")

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
			opened, err := OpenPostgres(openCtx, url)
			cancel()
			if err != nil {
				log.Warn("history store still not reachable", "err", err, "next_attempt_in", min(2*wait, time.Minute))
				continue
			}
			if s.open(opened) {
				log.Info("change history", "store", "PostgreSQL", "reachable", "now")
				logNewerSchema(log, &opened.sqlStore)
			}
			return
		}
	}()
	return s
}

// open makes the store usable; false (and the store closed) when the app is closing already.
func (s *laterStore) open(st Store) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = st.Close()
		return false
	}
	st.NotifyTo(s.receivers)
	s.opened = st
	return true
}

func (s *laterStore) get() (Store, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.opened == nil {
		return nil, errNotOpenYet
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

func (s *laterStore) RecordSave(ctx context.Context, sv Save) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.RecordSave(ctx, sv)
}

func (s *laterStore) List(ctx context.Context, tenantID string, f Filter, c Cursor, limit int) (Page, error) {
	st, err := s.get()
	if err != nil {
		return Page{}, err
	}
	return st.List(ctx, tenantID, f, c, limit)
}

func (s *laterStore) Count(ctx context.Context, tenantID string, f Filter) (int, error) {
	st, err := s.get()
	if err != nil {
		return 0, err
	}
	return st.Count(ctx, tenantID, f)
}

func (s *laterStore) Get(ctx context.Context, tenantID string, id int64) (Entry, bool, error) {
	st, err := s.get()
	if err != nil {
		return Entry{}, false, err
	}
	return st.Get(ctx, tenantID, id)
}

func (s *laterStore) People(ctx context.Context, tenantID string) ([]Person, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.People(ctx, tenantID)
}

func (s *laterStore) LastChange(ctx context.Context, tenantID string) (Entry, bool, error) {
	st, err := s.get()
	if err != nil {
		return Entry{}, false, err
	}
	return st.LastChange(ctx, tenantID)
}

func (s *laterStore) Export(ctx context.Context, tenantID string, f Filter, fn func(Entry) error) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.Export(ctx, tenantID, f, fn)
}

func (s *laterStore) DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	st, err := s.get()
	if err != nil {
		return 0, err
	}
	return st.DeleteBefore(ctx, cutoff)
}

func (s *laterStore) Due(ctx context.Context, now time.Time, limit int) ([]notify.Delivery, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.Due(ctx, now, limit)
}

func (s *laterStore) Delivered(ctx context.Context, key notify.DeliveryKey, at time.Time) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.Delivered(ctx, key, at)
}

func (s *laterStore) Retry(ctx context.Context, key notify.DeliveryKey, attempts int, next time.Time, lastError string) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.Retry(ctx, key, attempts, next, lastError)
}

func (s *laterStore) GaveUp(ctx context.Context, key notify.DeliveryKey, at time.Time, lastError string) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.GaveUp(ctx, key, at, lastError)
}

// NotifyTo is remembered and handed to the store once it opens.
func (s *laterStore) NotifyTo(receivers []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receivers = slices.Clone(receivers)
	if s.opened != nil {
		s.opened.NotifyTo(receivers)
	}
}

func (s *laterStore) DeliveryStates(ctx context.Context, tenantID string, entryIDs []int64) (map[int64][]notify.DeliveryState, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.DeliveryStates(ctx, tenantID, entryIDs)
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
