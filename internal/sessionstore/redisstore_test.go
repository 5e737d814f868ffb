package sessionstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/redis/go-redis/v9"

	"pcsupport/internal/testkit"
	"pcsupport/internal/testkit/redistest"
)

var keySpaces atomic.Int64

func TestRedisStoreContract(t *testing.T) {
	t.Parallel()
	client := redistest.Start(t).Client(t)
	storeContract(t, func(t *testing.T) storeBacking {
		prefix := fmt.Sprintf("test%d:session:", keySpaces.Add(1)) // one key space per subtest
		return storeBacking{
			open: func(opts CookieOptions, keyPairs ...[]byte) Store {
				return newRedisStore(client, prefix, opts, keyPairs...)
			},
			atRest: func() map[string][]byte {
				keys, err := client.Keys(context.Background(), prefix+"*").Result()
				if err != nil {
					t.Fatal(err)
				}
				rest := map[string][]byte{}
				for _, k := range keys {
					b, err := client.Get(context.Background(), k).Bytes()
					if err != nil {
						t.Fatal(err)
					}
					rest[k] = b
				}
				return rest
			},
			spoil: func(where string, raw []byte) {
				if err := client.Set(context.Background(), where, raw, redis.KeepTTL).Err(); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// Keys carry the session's own lifetime when it is shorter, never more than the store's, so
// Redis forgets abandoned sessions by itself.
func TestRedisKeysExpireWithTheSession(t *testing.T) {
	client := redistest.Start(t).Client(t)
	store := NewRedisStore(client, CookieOptions{Path: "/", Lifetime: 8 * time.Hour}, testKeys()...)
	for _, tc := range []struct {
		name   string
		maxAge int
		want   time.Duration
	}{
		{sessionCookie, 0, 8 * time.Hour},
		{sessionCookie, int((8 * time.Hour) / time.Second), 8 * time.Hour},
		{sessionCookie, int((10 * time.Minute) / time.Second), 10 * time.Minute},
		{"long_lived", int((24 * time.Hour) / time.Second), 8 * time.Hour},
	} {
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), tc.name)
		if tc.maxAge != 0 {
			s.Options.MaxAge = tc.maxAge
		}
		s.Values["x"] = 1
		save(t, store, s)
		ttl, err := client.TTL(t.Context(), redisSessionPrefix+s.ID).Result()
		if err != nil || ttl > tc.want || ttl < tc.want-5*time.Second {
			t.Errorf("%s with MaxAge %d: TTL %v (%v), want %v", tc.name, tc.maxAge, ttl, err, tc.want)
		}
	}
}

// When Redis does not answer, the store says so instead of starting a session silently.
func TestRedisStoreUnreachable(t *testing.T) {
	client := redistest.Start(t).Client(t)
	keys := testKeys()
	store := NewRedisStore(client, CookieOptions{Path: "/", Lifetime: time.Hour}, keys...)
	s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
	s.Values["x"] = 1
	c := save(t, store, s)

	gone := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer gone.Close()
	down := NewRedisStore(gone, CookieOptions{Path: "/", Lifetime: time.Hour}, keys...)
	if _, err := down.New(requestWith(c), sessionCookie); !errors.Is(err, ErrUnavailable) {
		t.Errorf("New with a valid cookie and no Redis: %v, want ErrUnavailable", err)
	}
	if err := down.Save(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder(), s); err == nil {
		t.Error("Save with no Redis: no error")
	}
	if err := down.Ping(t.Context()); err == nil {
		t.Error("Ping with no Redis: no error")
	}
	if err := store.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// The URL's password never appears in an error. (What a Redis URL may be is internal/config's
// to decide; its TestBadRedisSettings has the rest.)
func TestOpenRedisURLs(t *testing.T) {
	for _, u := range []string{"redis://u:hunter2@host:notaport/0", "http://u:hunter2@host/0", "redis://u:hunter2@host/x"} {
		if _, err := OpenRedis(u); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("OpenRedis(%q): %v", u, err)
		}
	}
	c, err := OpenRedis("rediss://app:hunter2@redis.internal:6380/3")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if o := c.Options(); o.Addr != "redis.internal:6380" || o.DB != 3 || o.Username != "app" || o.Password != "hunter2" || o.TLSConfig == nil {
		t.Errorf("options %+v", o)
	}
}

func testKeys() [][]byte {
	return [][]byte{securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)}
}

// Readiness fails when Redis answers PING but refuses writes (a read-only replica, out of
// memory), and passes again once it takes them; the probe leaves no key behind.
func TestRedisStoreProbeWhenRedisRefusesWrites(t *testing.T) {
	for _, tc := range []struct {
		name          string
		refuse, allow [][]any
	}{
		{"a read-only replica", [][]any{{"replicaof", "127.0.0.1", "1"}}, [][]any{{"replicaof", "no", "one"}}},
		{"out of memory", [][]any{{"config", "set", "maxmemory-policy", "noeviction"}, {"config", "set", "maxmemory", "1"}},
			[][]any{{"config", "set", "maxmemory", "0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := redistest.Start(t).Client(t)
			store := NewRedisStore(client, CookieOptions{Path: "/", Lifetime: time.Hour}, testKeys()...)
			run := func(cmds [][]any) {
				t.Helper()
				for _, cmd := range cmds {
					if err := client.Do(t.Context(), cmd...).Err(); err != nil {
						t.Fatalf("%v: %v", cmd, err)
					}
				}
			}
			if err := store.Probe(t.Context()); err != nil {
				t.Fatalf("Probe: %v", err)
			}
			run(tc.refuse)
			if err := store.Probe(t.Context()); err == nil || !strings.Contains(err.Error(), "cannot write") {
				t.Errorf("Probe: %v, want a failure to write", err)
			}
			if err := store.Ping(t.Context()); err != nil {
				t.Errorf("Ping: %v; the probe is needed because PING still answers", err)
			}
			run(tc.allow)
			if err := store.Probe(t.Context()); err != nil {
				t.Errorf("Probe once Redis takes writes again: %v", err)
			}
			if keys, err := client.Keys(t.Context(), "*").Result(); err != nil || len(keys) != 0 {
				t.Errorf("the probes left %v (%v)", keys, err)
			}
		})
	}

	gone := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer gone.Close()
	if err := NewRedisStore(gone, CookieOptions{Path: "/", Lifetime: time.Hour}, testKeys()...).Probe(t.Context()); err == nil {
		t.Error("Probe with no Redis: no error")
	}
}

// The Redis client's own complaints (here, a failed dial) go to the app's log, as warnings,
// rather than to stderr in another format.
func TestRedisClientLogsToTheAppLog(t *testing.T) {
	var logs testkit.SyncBuffer
	LogRedisTo(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { LogRedisTo(slog.Default()) })
	gone := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer gone.Close()
	if err := gone.Ping(t.Context()).Err(); err == nil {
		t.Fatal("Ping with no Redis: no error")
	}
	for l := range strings.Lines(logs.String()) {
		var line struct{ Level, Msg, Message string }
		if json.Unmarshal([]byte(l), &line) == nil && line.Level == "WARN" && line.Msg == "redis client" && strings.Contains(line.Message, "failed to dial") {
			return
		}
	}
	t.Errorf("the app's log holds %q, want a warning about the failed dial", logs.String())
}
