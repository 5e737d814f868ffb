package history

import (
	"context"
	"sync"
	"time"

	"pcsupport/internal/keyedlock"
	"pcsupport/internal/support"
)

// maxCachedTenants bounds what Cached keeps: far more partner tenants than sign in to one app.
const maxCachedTenants = 1000

// Cached wraps a store with what this process knows of each tenant's newest state and last
// change, so that a page view that finds nothing new costs no database round trip
// (BENCHMARKS.md, "The profile's story").
//
// What it knows comes only from what this process read or wrote through the store. trustFor
// bounds how long that is believed without asking the database again: with one replica
// (SQLite) every write passes through this process, so 0, for ever, is right; with several
// (PostgreSQL) another replica may record a change meanwhile. Within trustFor the line under the
// form may lag another replica's save, and values that changed and changed back may be noticed
// late; never lost, since the next observation after trustFor compares with the database.
func Cached(s Store, trustFor time.Duration) Store {
	return &cachedStore{Store: s, trustFor: trustFor, tenants: map[string]*tenantState{}}
}

type cachedStore struct {
	Store
	trustFor time.Duration

	// writing makes this process's writes of a tenant and what it learns from them happen in
	// one order, so what is known is never older than what the database holds. Writes of
	// different tenants go on side by side (and may commit together: see writeBatches).
	writing keyedlock.Locks

	mu      sync.Mutex
	tenants map[string]*tenantState
	writes  uint64 // counts writes, so that a read overtaken by a write is not kept
}

type tenantState struct {
	newest   support.Contact // the newest recorded state
	newestOf time.Time       // when it was read or saved
	newestAt time.Time       // when this process learned it
	last     *lastChange     // nil: not known
}

type lastChange struct {
	entry Entry
	ok    bool
	at    time.Time
}

func (c *cachedStore) fresh(learned time.Time) bool {
	return c.trustFor <= 0 || time.Since(learned) < c.trustFor
}

// Observe goes to the database only when current is not the newest state this process knows.
func (c *cachedStore) Observe(ctx context.Context, tenantID string, current support.Contact, at time.Time) error {
	c.mu.Lock()
	st := c.tenants[tenantID]
	known := st != nil && !st.newestAt.IsZero() && st.newest == current && c.fresh(st.newestAt)
	c.mu.Unlock()
	if known {
		return nil
	}
	unlock, err := c.writing.Lock(ctx, tenantID)
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.Store.Observe(ctx, tenantID, current, at); err != nil {
		c.forget(tenantID)
		return err
	}
	c.learn(tenantID, current, at) // something may have been recorded: the last change is asked again
	return nil
}

// RecordSave records through the store, then knows the saved values as the newest state, and
// the last change when the store tells it.
func (c *cachedStore) RecordSave(ctx context.Context, s Save) error {
	unlock, err := c.writing.Lock(ctx, s.TenantID)
	if err != nil {
		return err
	}
	defer unlock()
	var last Entry
	var known bool
	if r, ok := c.Store.(lastChangeRecorder); ok {
		last, known, err = r.recordSave(ctx, s)
	} else {
		err = c.Store.RecordSave(ctx, s)
	}
	if err != nil {
		c.forget(s.TenantID)
		return err
	}
	c.learn(s.TenantID, s.After, s.At)
	if known {
		c.knowLastChange(s.TenantID, last, s.At)
	}
	return nil
}

// LastChange answers from what is known while it is fresh.
func (c *cachedStore) LastChange(ctx context.Context, tenantID string) (Entry, bool, error) {
	c.mu.Lock()
	if st := c.tenants[tenantID]; st != nil && st.last != nil && c.fresh(st.last.at) {
		e, ok := st.last.entry, st.last.ok
		c.mu.Unlock()
		return e, ok, nil
	}
	before := c.writes
	c.mu.Unlock()
	e, ok, err := c.Store.LastChange(ctx, tenantID)
	if err != nil {
		return e, ok, err
	}
	c.mu.Lock()
	if c.writes == before {
		c.state(tenantID).last = &lastChange{entry: e, ok: ok, at: time.Now()}
	}
	c.mu.Unlock()
	return e, ok, nil
}

// learn knows newest, read or saved at of, as the tenant's newest state, unless it knows a
// newer one (a read sent before a save was recorded may carry older values: the store ignores it).
func (c *cachedStore) learn(tenantID string, newest support.Contact, of time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state(tenantID)
	if of.Before(st.newestOf) {
		st.last = nil
	} else {
		st.newest, st.newestOf, st.newestAt, st.last = newest, of, time.Now(), nil
	}
	c.writes++
}

// knowLastChange knows e as the tenant's last change, unless what is known is newer than the
// save made at.
func (c *cachedStore) knowLastChange(tenantID string, e Entry, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.state(tenantID); st.newestOf.Equal(at) {
		st.last = &lastChange{entry: e, ok: true, at: time.Now()}
	}
}

func (c *cachedStore) forget(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tenants, tenantID)
	c.writes++
}

// state returns the tenant's state, made on first use. Callers hold c.mu.
func (c *cachedStore) state(tenantID string) *tenantState {
	st := c.tenants[tenantID]
	if st == nil {
		if len(c.tenants) >= maxCachedTenants {
			clear(c.tenants) // a cheap bound: the next reads ask the database once more
		}
		st = &tenantState{}
		c.tenants[tenantID] = st
	}
	return st
}
