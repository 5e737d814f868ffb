package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
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
// share them. As with the filesystem store the cookie holds only the signed and encrypted
// session id, and the contents are encoded with the same codecs, so they are encrypted and
// signed at rest too: whoever reads Redis sees no token. Keys expire with the session.
//
// boj/redistore was the candidate: it stores gob in clear (encryption would need a custom
// serializer), prints errors to stdout, takes no context and speaks redigo; the app also needs a
// Redis client for the refresh lock and the readiness check. One go-redis client serves all three.
type RedisStore struct {
	client    *redis.Client
	codecs    []securecookie.Codec
	options   *sessions.Options
	lifetime  time.Duration
	keyPrefix string
	cache     *sessionCache
}

const redisSessionPrefix = "pcs:session:"

// NewRedisStore keeps sessions in Redis under keys "pcs:session:<id>", encrypted and signed
// with keyPairs (the first pair for new data; older pairs still read).
func NewRedisStore(client *redis.Client, opts CookieOptions, keyPairs ...[]byte) *RedisStore {
	return newRedisStore(client, redisSessionPrefix, opts, keyPairs...)
}

func newRedisStore(client *redis.Client, prefix string, opts CookieOptions, keyPairs ...[]byte) *RedisStore {
	return &RedisStore{client: client, codecs: sessionCodecs(opts, keyPairs), options: opts.sessionOptions(), lifetime: opts.Lifetime,
		keyPrefix: prefix, cache: newSessionCache()}
}

// Get returns the session cached for this request, or loads it.
func (s *RedisStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session the request's cookie names. Without a cookie, or when the session is
// gone (expired, deleted), it returns a new session; with a cookie it cannot decode (tampered,
// unknown keys) it returns a new session and the error, as gorilla's stores do.
func (s *RedisStore) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := *s.options
	session.Options = &opts
	session.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return session, nil
	}
	id, err := s.cache.sessionID(name, c.Value, s.codecs, s.lifetime)
	if err != nil {
		return session, err
	}
	raw, err := s.client.Get(r.Context(), s.keyPrefix+id).Result()
	switch {
	case errors.Is(err, redis.Nil):
		s.cache.forget(id)
		return session, nil
	case err != nil:
		return session, fmt.Errorf("read session from redis: %w: %w", ErrSessionStoreUnavailable, err)
	}
	stamp := s.cache.hash(raw)
	if values, ok := s.cache.get(id, stamp); ok {
		session.Values, session.ID, session.IsNew = values, id, false
		return session, nil
	}
	if err := securecookie.DecodeMulti(name, raw, &session.Values, s.codecs...); err != nil {
		return session, fmt.Errorf("decode session: %w", err)
	}
	s.cache.put(id, stamp, session.Values)
	session.ID, session.IsNew = id, false
	return session, nil
}

// Save writes the session and its cookie; a negative MaxAge deletes both.
func (s *RedisStore) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	ctx := r.Context()
	if session.Options.MaxAge < 0 {
		if session.ID != "" {
			s.cache.forget(session.ID)
			if err := s.client.Del(ctx, s.keyPrefix+session.ID).Err(); err != nil {
				return fmt.Errorf("delete session from redis: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", session.Options))
		return nil
	}
	if session.ID == "" {
		session.ID = newSessionID()
	}
	data, err := securecookie.EncodeMulti(session.Name(), session.Values, s.codecs...)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	ttl := time.Duration(session.Options.MaxAge) * time.Second
	if ttl == 0 || ttl > s.lifetime {
		ttl = s.lifetime // the codecs refuse anything older anyway
	}
	s.cache.forget(session.ID)
	if err := s.client.Set(ctx, s.keyPrefix+session.ID, data, ttl).Err(); err != nil {
		return fmt.Errorf("write session to redis: %w", err)
	}
	cookie, err := securecookie.EncodeMulti(session.Name(), session.ID, s.codecs...)
	if err != nil {
		return fmt.Errorf("encode session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(session.Name(), cookie, session.Options))
	return nil
}

// Ping reports whether Redis answers.
func (s *RedisStore) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("session store (redis): %w", err)
	}
	return nil
}

// Probe writes, reads back and deletes a short-lived key the way sessions are written, so that
// readiness fails when Redis answers PING but refuses writes (out of memory, read-only replica).
func (s *RedisStore) Probe(ctx context.Context) error {
	key, want := s.keyPrefix+"probe:"+randomString(), randomString()
	if err := s.client.Set(ctx, key, want, 10*time.Second).Err(); err != nil {
		return fmt.Errorf("session store (redis) cannot write: %w", err)
	}
	defer s.client.Del(context.WithoutCancel(ctx), key)
	got, err := s.client.Get(ctx, key).Result()
	if err != nil || got != want {
		return fmt.Errorf("session store (redis) cannot read back what it wrote: %v", err)
	}
	return nil
}
