package handlers

import (
	"sync"
	"time"
)

// throttles remembers, per partner tenant, until when Partner Center asked it to wait: a 429
// whose Retry-After was too long to wait out within the request. Until then no save is sent and
// the form's Save is turned off, also after a reload. Each replica learns it from a 429 of its
// own; Partner Center counts per partner tenant, so what one person met holds for the others.
type throttles struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// note records that tenant must wait until until, rounded up to a whole second: the page and
// Retry-After say the time in seconds, and a browser that turns Save on at the time it was told
// must not be refused.
func (t *throttles) note(tenant string, until time.Time) {
	if tenant == "" {
		return
	}
	if whole := until.Truncate(time.Second); whole.Before(until) {
		until = whole.Add(time.Second)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.until == nil {
		t.until = map[string]time.Time{}
	}
	now := time.Now()
	for k, u := range t.until { // the waits are seconds or minutes long: the map stays small
		if !u.After(now) {
			delete(t.until, k)
		}
	}
	if until.After(t.until[tenant]) {
		t.until[tenant] = until
	}
}

// waitUntil says until when tenant must wait, if it must still.
func (t *throttles) waitUntil(tenant string, now time.Time) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.until[tenant]
	return u, ok && u.After(now)
}
