package auth

import (
	"context"
	"time"
)

// RefreshLocker lets one request at a time refresh a session's tokens. The provider rotates the
// refresh token and refuses a spent one, so two refreshes of the same session at once would
// end it: every replica sharing sessions must share the locker too (keyedlock.Redis).
type RefreshLocker interface {
	// Lock waits until key is free or ctx ends, and returns the function that frees it.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

const (
	// RefreshLockTTL is how long a shared refresh lock outlives a holder that never releases it.
	RefreshLockTTL = 15 * time.Second
	// refreshLockWait bounds how long a request waits for another's refresh. It outlasts
	// RefreshLockTTL, so a lock left by a replica that died is always waited out.
	refreshLockWait = 20 * time.Second
	// refreshGrantTimeout bounds the refresh grant, so that it ends while its lock is still held.
	refreshGrantTimeout = 10 * time.Second
)
