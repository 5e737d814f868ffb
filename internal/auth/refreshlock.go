package auth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"pcsupport/internal/keyedlock"
)

// RefreshLocker lets one request at a time refresh a session's tokens. The provider rotates the
// refresh token and refuses a spent one, so two refreshes of the same session at once would
// end it: every replica sharing sessions must share the locker too.
type RefreshLocker interface {
	// Lock waits until key is free or ctx ends, and returns the function that frees it.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

const (
	// refreshLockWait bounds how long a request waits for another's refresh. It outlasts
	// redisLockTTL, so a lock left by a replica that died is always waited out.
	refreshLockWait = 20 * time.Second
	// redisLockTTL is how long a Redis lock outlives a holder that never releases it.
	redisLockTTL = 15 * time.Second
	// refreshGrantTimeout bounds the refresh grant, so that it ends while its lock is still held.
	refreshGrantTimeout = 10 * time.Second
)

// NewLocalRefreshLocker serialises refreshes within this process: enough for one replica.
func NewLocalRefreshLocker() RefreshLocker { return &keyedlock.Locks{} }

// RedisRefreshLocker serialises refreshes across replicas with a Redis lock per session:
// SET NX PX with a random token, released by a script that deletes the key only while it still
// holds that token, so a holder whose lock expired never frees someone else's.
type RedisRefreshLocker struct {
	client *redis.Client
	prefix string
	ttl    time.Duration
	local  keyedlock.Locks // requests of this replica queue here instead of polling Redis
}

// NewRedisRefreshLocker locks under keys "pcs:refresh-lock:<session id>".
func NewRedisRefreshLocker(client *redis.Client) *RedisRefreshLocker {
	return NewRedisLocker(client, "pcs:refresh-lock:", redisLockTTL)
}

// NewRedisLocker is the same lock for other uses (the saves of one partner across replicas):
// keys are prefix+key, and a holder that dies frees its lock after ttl.
func NewRedisLocker(client *redis.Client, prefix string, ttl time.Duration) *RedisRefreshLocker {
	return &RedisRefreshLocker{client: client, prefix: prefix, ttl: ttl}
}

var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Lock takes the session's lock, polling Redis until it is free or ctx ends.
func (l *RedisRefreshLocker) Lock(ctx context.Context, key string) (func(), error) {
	unlockLocal, err := l.local.Lock(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("wait for refresh lock: %w", err)
	}
	token := randomString()
	redisKey := l.prefix + key
	wait := 5 * time.Millisecond
	for {
		ok, err := l.client.SetNX(ctx, redisKey, token, l.ttl).Result()
		if err != nil {
			unlockLocal()
			return nil, fmt.Errorf("take refresh lock: %w", err)
		}
		if ok {
			return func() {
				// The request may be ending; the lock must still go.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_ = releaseScript.Run(ctx, l.client, []string{redisKey}, token).Err()
				unlockLocal()
			}, nil
		}
		t := time.NewTimer(wait/2 + rand.N(wait)) // jitter, so waiting replicas do not poll in step
		select {
		case <-ctx.Done():
			t.Stop()
			unlockLocal()
			return nil, fmt.Errorf("wait for refresh lock: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}
