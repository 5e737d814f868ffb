package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// OpenRedis connects to the Redis at rawURL: redis://[user:password@]host:port/db, or rediss://
// for TLS. It does not dial; the first command does. What a Redis URL may be is decided by
// internal/config; this only refuses what the client cannot read.
func OpenRedis(rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // a url.Error repeats the URL, password included
		}
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	opts.DisableIdentity = true // CLIENT SETINFO is unknown before Redis 7.2 (Debian 12 ships 7.0)
	return redis.NewClient(opts), nil
}

// LogRedisTo sends the Redis client's own messages (reconnections, pool trouble) to log instead
// of stderr. The client library has one logger per process.
func LogRedisTo(log *slog.Logger) { redis.SetLogger(redisLogger{log}) }

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "message", fmt.Sprintf(format, v...))
}

// RedisStore is a gorilla/sessions store that keeps sessions in Redis, so that several replicas
// share them. As with the file store the cookie holds only the signed and encrypted session id,
// and the contents are encrypted and signed at rest too: whoever reads Redis sees no token. Keys
// expire with the session.
//
// boj/redistore was the candidate: it stores gob in clear (encryption would need a custom
// serializer), prints errors to stdout, takes no context and speaks redigo; the app also needs a
// Redis client for the locks and the readiness check. One go-redis client serves all three.
type RedisStore struct {
	*sealedStore
	keys *redisSessions
}

// redisSessions are sessions under a key prefix in Redis: the RedisStore's backend.
type redisSessions struct {
	client *redis.Client
	prefix string
	cache  *sessionCache // for the stamps: a hash of the value read
}

const redisSessionPrefix = "pcs:session:"

// NewRedisStore keeps sessions in Redis under keys "pcs:session:<id>", encrypted and signed
// with keyPairs (the first pair for new data; older pairs still read).
func NewRedisStore(client *redis.Client, opts CookieOptions, keyPairs ...[]byte) *RedisStore {
	return newRedisStore(client, redisSessionPrefix, opts, keyPairs...)
}

func newRedisStore(client *redis.Client, prefix string, opts CookieOptions, keyPairs ...[]byte) *RedisStore {
	keys := &redisSessions{client: client, prefix: prefix}
	s := &RedisStore{sealedStore: newSealedStore(keys, opts, keyPairs), keys: keys}
	keys.cache = s.cache
	return s
}

// version reads the value, the only way to know it: the stamp is its hash, and the value comes
// along for decoding when it is not the cached one.
func (k *redisSessions) version(ctx context.Context, id string) (string, string, bool, error) {
	raw, err := k.client.Get(ctx, k.prefix+id).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", "", false, nil
	case err != nil:
		return "", "", false, err
	}
	return k.cache.hash(raw), raw, true, nil
}

// read is called only when version read an empty value, which no session is: reading it again
// lets it fail to decode, as a spoiled session does, rather than look like an outage.
func (k *redisSessions) read(ctx context.Context, id string) (string, bool, error) {
	raw, err := k.client.Get(ctx, k.prefix+id).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	return raw, err == nil, err
}

func (k *redisSessions) write(ctx context.Context, id, data string, ttl time.Duration) error {
	return k.client.Set(ctx, k.prefix+id, data, ttl).Err()
}

func (k *redisSessions) remove(ctx context.Context, id string) error {
	return k.client.Del(ctx, k.prefix+id).Err()
}

// Ping reports whether Redis answers.
func (s *RedisStore) Ping(ctx context.Context) error {
	if err := s.keys.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("session store (redis): %w", err)
	}
	return nil
}

// Probe writes, reads back and deletes a short-lived key the way sessions are written, so that
// readiness fails when Redis answers PING but refuses writes (out of memory, read-only replica).
func (s *RedisStore) Probe(ctx context.Context) error {
	key, want := s.keys.prefix+"probe:"+randomString(), randomString()
	if err := s.keys.client.Set(ctx, key, want, 10*time.Second).Err(); err != nil {
		return fmt.Errorf("session store (redis) cannot write: %w", err)
	}
	defer s.keys.client.Del(context.WithoutCancel(ctx), key)
	got, err := s.keys.client.Get(ctx, key).Result()
	if err != nil || got != want {
		return fmt.Errorf("session store (redis) cannot read back what it wrote: %v", err)
	}
	return nil
}
