package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRecordSave records saves one after another in SQLite, as a busy partner would:
//
//	go test ./internal/history -run '^$' -bench RecordSave -cpuprofile cpu.out
func BenchmarkRecordSave(b *testing.B) {
	s := open(b, "sqlite:"+filepath.Join(b.TempDir(), "history.db"))
	ctx := context.Background()
	at := time.Now()
	mustObserve(b, s, "T1", contacts("v0"), at)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		at = at.Add(time.Second)
		sv := save("T1", fmt.Sprintf("v%d", i-1), fmt.Sprintf("v%d", i), at)
		if err := s.RecordSave(ctx, sv); err != nil {
			b.Fatal(err)
		}
	}
}
