package history

import (
	"context"
	"strings"
	"sync"
	"testing"

	"pcsupport/internal/history/pgtest"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	pgtest.Start(t)
	// The contract on PostgreSQL runs in TestQueries (queries_test.go), which records the
	// statements it sends on the way.
	t.Run("replicas starting together migrate once", func(t *testing.T) {
		t.Parallel()
		replicasMigrateOnce(t, pgtest.NewDatabase(t))
	})
}

func replicasMigrateOnce(t *testing.T, url string) {
	var wg sync.WaitGroup
	stores := make([]Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = OpenPostgres(context.Background(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	if n, want := queryInt(t, stores[0], `SELECT COUNT(*) FROM history_schema`), int64(knownVersions(t, stores[0])); n != want {
		t.Errorf("%d migrations recorded, want %d (each once)", n, want)
	}
	mustObserve(t, stores[3], "T1", contacts("a"), t0)
}

func TestPostgresErrorsNeverRepeatThePassword(t *testing.T) {
	t.Parallel()
	const pw = "s3cr3t-Pa55"
	for _, url := range []string{
		"postgres://app:" + pw + "@db.example:notaport/history",                                // does not parse
		"postgres://app:" + pw + "@/history?host=/nonexistent-pcs-socket-dir",                  // cannot connect
		"postgres://app:" + strings.Replace(pw, "-", "%2D", 1) + "@/history?host=/nonexistent", // encoded
		"host=/nonexistent-pcs-socket-dir user=app password=" + pw + " dbname=history",
		"host=/nonexistent-pcs-socket-dir user=app password='" + pw + "' dbname=history port=x",
	} {
		s, err := OpenPostgres(context.Background(), url)
		if err == nil {
			s.Close()
			t.Errorf("OpenPostgres(%q) succeeded", url)
			continue
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "s3cr3t%2DPa55") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
}
