package history

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunRetention(t *testing.T) {
	t.Parallel()
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "history.db"))
	now := time.Now()
	mustObserve(t, s, "T1", contacts("a"), now.Add(-72*time.Hour))
	mustObserve(t, s, "T1", contacts("b"), now.Add(-48*time.Hour))
	mustObserve(t, s, "T1", contacts("c"), now.Add(-time.Minute))

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	RunRetention(context.Background(), s, 0, time.Millisecond, log) // off: returns at once
	if n := len(all(t, s, "T1")); n != 3 {
		t.Fatalf("retention off deleted entries: %d left", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { RunRetention(ctx, s, 24*time.Hour, 10*time.Millisecond, log); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(all(t, s, "T1")) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("retention did not delete the two entries older than a day")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Later entries age past the cutoff too: the loop keeps running.
	mustObserve(t, s, "T2", contacts("a"), now.Add(-72*time.Hour))
	mustObserve(t, s, "T2", contacts("b"), now)
	for len(all(t, s, "T2")) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("retention ran only once")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunRetention did not return when its context ended")
	}
	if !strings.Contains(logs.String(), "retention off") || !strings.Contains(logs.String(), "deleted=2") {
		t.Errorf("logs do not tell what retention did:\n%s", logs.String())
	}
}
