package keyedlock

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOneHolderPerKeyAndCleanup(t *testing.T) {
	var l Locks
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(context.Background(), "tenant")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Errorf("%d holders at once", maxInside.Load())
	}
	if l.Len() != 0 {
		t.Errorf("%d locks left behind", l.Len())
	}
}

func TestOtherKeysDoNotWaitAndContextEndsTheWait(t *testing.T) {
	var l Locks
	unlock, _ := l.Lock(context.Background(), "a")
	defer unlock()
	if u, err := l.Lock(context.Background(), "b"); err != nil {
		t.Fatal(err)
	} else {
		u()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "a"); err == nil {
		t.Fatal("got a held lock")
	}
	if l.Len() != 1 {
		t.Errorf("waiter that gave up left %d locks", l.Len())
	}
}
