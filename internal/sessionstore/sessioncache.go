package sessionstore

import (
	"bytes"
	"container/list"
	"encoding/base64"
	"errors"
	"hash/maphash"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
)

// maxCachedSessions bounds the cache: far more people than use the app at once, a few MB.
const maxCachedSessions = 1000

// sessionCache keeps recently read sessions decoded, so that a page view does not decrypt and
// gob-decode a session that changes only at sign-in and at a token refresh (BENCHMARKS.md, "The
// profile's story").
//
// It is safe because an entry is used only while the store says the session is unchanged, asked
// on every read: for files, the file's identity (inode, size, modification time; every write
// renames a new file into place, so any write changes it), for Redis, a hash of the value just
// read. A sign-out or a refresh by another request or another replica changes or removes what
// the store holds, so the next read misses and decodes afresh. Callers get a copy of the values,
// never the cached map.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string]*list.Element // by session id
	lru     *list.List               // of *cachedSession, most recent first
	ids     map[string]cookieID      // session cookie value -> session id, already verified
	seed    maphash.Seed
}

type cookieID struct {
	id      string
	expires time.Time
}

type cachedSession struct {
	id     string
	stamp  string // what the store says about the session's state when it was cached
	values map[any]any
}

func newSessionCache() *sessionCache {
	return &sessionCache{entries: map[string]*list.Element{}, lru: list.New(), ids: map[string]cookieID{}, seed: maphash.MakeSeed()}
}

// sessionID decodes a session cookie's value into the session id, remembering the result until
// the cookie expires: the value is signed, so the same value always names the same id.
func (c *sessionCache) sessionID(name, value string, codecs []securecookie.Codec, maxAge time.Duration) (string, error) {
	c.mu.Lock()
	known, ok := c.ids[value]
	c.mu.Unlock()
	if ok {
		if time.Now().After(known.expires) {
			return "", errCookieExpired
		}
		return known.id, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, value, &id, codecs...); err != nil {
		return "", err
	}
	issued, ok := cookieTimestamp(value)
	if !ok {
		return id, nil // readable, but not in the format known here: not remembered
	}
	c.mu.Lock()
	if len(c.ids) >= maxCachedSessions {
		clear(c.ids) // a cheap bound: the next requests decode their cookie once more
	}
	c.ids[value] = cookieID{id: id, expires: issued.Add(maxAge)}
	c.mu.Unlock()
	return id, nil
}

var errCookieExpired = errors.New("session cookie expired")

// cookieTimestamp reads when securecookie encoded a value ("name|date|value|mac" in base64, the
// name left out); called only once the value's MAC has been verified.
func cookieTimestamp(value string) (time.Time, bool) {
	b, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		return time.Time{}, false
	}
	date, _, found := bytes.Cut(b, []byte("|"))
	sec, err := strconv.ParseInt(string(date), 10, 64)
	if !found || err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

// hash is the stamp of a value read from a store that has no cheaper one.
func (c *sessionCache) hash(raw string) string {
	return strconv.FormatUint(maphash.String(c.seed, raw), 16)
}

// get returns a copy of the session's values when it is cached with this stamp.
func (c *sessionCache) get(id, stamp string) (map[any]any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return nil, false
	}
	cs := e.Value.(*cachedSession)
	if cs.stamp != stamp {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return cloneValues(cs.values), true
}

// put caches a copy of values as the session's state for stamp.
func (c *sessionCache) put(id, stamp string, values map[any]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := &cachedSession{id: id, stamp: stamp, values: cloneValues(values)}
	if e, ok := c.entries[id]; ok {
		e.Value = cs
		c.lru.MoveToFront(e)
		return
	}
	c.entries[id] = c.lru.PushFront(cs)
	if c.lru.Len() > maxCachedSessions {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cachedSession).id)
	}
}

// forget drops the session (deleted, or gone from the store).
func (c *sessionCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		c.lru.Remove(e)
		delete(c.entries, id)
	}
}

// cloneValues copies a session's values deeply enough that no change to the copy reaches the
// original: values are structs (copied with the map) or slices, which AddFlash appends to.
func cloneValues(m map[any]any) map[any]any {
	out := make(map[any]any, len(m))
	for k, v := range m {
		if s, ok := v.([]any); ok {
			v = slices.Clone(s)
		}
		out[k] = v
	}
	return out
}
