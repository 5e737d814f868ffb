package handlers

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestSubmissionsForgetOldestFirstAndStayBounded(t *testing.T) {
	var s submissions
	ctx := context.Background()
	for i := range maxRememberedSaves + 10 {
		key := strconv.Itoa(i)
		sub, _, _ := s.begin(ctx, key)
		s.finish(key, sub, saveResult{outcome: outcomeSaved})
	}
	s.mu.Lock()
	n, oldestKept := len(s.m), s.m["10"] != nil
	_, firstGone := s.m["0"]
	s.mu.Unlock()
	if n > maxRememberedSaves+1 || firstGone || !oldestKept {
		t.Errorf("%d remembered; first forgotten %v; eleventh kept %v", n, !firstGone, oldestKept)
	}
	// Expired outcomes are forgotten: the same key may save again.
	s.mu.Lock()
	for _, sub := range s.m {
		sub.expiry = time.Now().Add(-time.Second)
	}
	s.mu.Unlock()
	if sub, earlier, _ := s.begin(ctx, "10"); sub == nil || earlier != nil {
		t.Error("an expired outcome was still answered")
	}
}
