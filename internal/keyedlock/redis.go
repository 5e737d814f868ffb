package keyedlock

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is one lock per key shared by every replica through Redis: SET NX PX with a random
// token, released by a script that deletes the key only while it still holds that token, so a
// holder whose lock expired never frees someone else's. Requests of one replica queue in
// process first instead of all polling Redis.
type Redis struct {
	client *redis.Client
	prefix string
	ttl    time.Duration
	local  Locks
}

// NewRedis locks under the keys prefix+key; a holder that dies frees its lock after ttl.
func NewRedis(client *redis.Client, prefix string, ttl time.Duration) *Redis {
	return &Redis{client: client, prefix: prefix, ttl: ttl}
}

var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Lock takes the key's lock, polling Redis until it is free or ctx ends.
func (l *Redis) Lock(ctx context.Context, key string) (func(), error) {
	unlockLocal, err := l.local.Lock(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("wait for lock: %w", err)
	}
	token := rand.Text()
	redisKey := l.prefix + key
	wait := 5 * time.Millisecond
	for {
		ok, err := l.client.SetNX(ctx, redisKey, token, l.ttl).Result()
		if err != nil {
			unlockLocal()
			return nil, fmt.Errorf("take lock: %w", err)
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
		t := time.NewTimer(wait/2 + mrand.N(wait)) // jitter, so waiting replicas do not poll in step
		select {
		case <-ctx.Done():
			t.Stop()
			unlockLocal()
			return nil, fmt.Errorf("wait for lock: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}
