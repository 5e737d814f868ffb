package history

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"pcsupport/internal/history/pgtest"
	"pcsupport/internal/support"
)

// reportCPU reports the process's CPU time (user and system) per operation from here to the
// benchmark's end: wall time per operation hides what the kernel and the other CPU spent.
func reportCPU(b *testing.B) {
	start := processCPU(b)
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64((processCPU(b)-start).Microseconds())/float64(b.N), "cpu-µs/op")
		}
	})
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecordSave records saves one after another in SQLite, as a busy partner would:
//
//	go test ./internal/history -run '^$' -bench RecordSave -cpuprofile cpu.out
func BenchmarkRecordSave(b *testing.B) {
	s := open(b, "sqlite:"+filepath.Join(b.TempDir(), "history.db"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour) // as the app's: it can end
	defer cancel()
	at := time.Now()
	mustObserve(b, s, "T1", contacts("v0"), at)
	b.ReportAllocs()
	reportCPU(b)
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

// BenchmarkRecordSaveParallel records saves of 50 partners at once, as the bench's 50 sessions
// with a partner each do: go test ./internal/history -run '^$' -bench RecordSaveParallel -cpu 2
func BenchmarkRecordSaveParallel(b *testing.B) {
	s := Cached(open(b, "sqlite:"+filepath.Join(b.TempDir(), "history.db")), 0)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	reportCPU(b)
	b.SetParallelism(25) // 50 goroutines on 2 CPUs
	b.RunParallel(func(pb *testing.PB) {
		tenant := fmt.Sprintf("T%d", next.Add(1))
		at := time.Now()
		mustObserve(b, s, tenant, contacts("v0"), at)
		i := 0
		for pb.Next() {
			i++
			at = at.Add(time.Second)
			if err := s.RecordSave(ctx, save(tenant, fmt.Sprintf("v%d", i-1), fmt.Sprintf("v%d", i), at)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLongHistory times what a long SQLite history costs outside the save path: an
// hourly retention pass that finds nothing to delete (SQLite keeps no index on at_time, so it
// reads the table), and migration 0003's rebuild of a history written before it.
//
//	go test ./internal/history -run '^$' -bench LongHistory -benchtime 3x
func BenchmarkLongHistory(b *testing.B) {
	const entries, tenants = 200_000, 1_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "history.db")
	old := sqliteAt(b, path, 2)
	tx, err := old.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := range entries {
		prev := int64(0)
		if i >= tenants {
			prev = int64(i - tenants + 1) // the tenant's entry before, ids starting at 1
		}
		_, err := tx.Exec(insertBeforeRestoredFrom, fmt.Sprintf("tenant-%04d", i%tenants), prev, "outside", t0.Add(time.Duration(i)*time.Second).UnixMilli(),
			"", "", "", "support@contoso.example", "+1 425 555 0100", "https://contoso.example/support",
			"help@contoso.example", "+1 425 555 0101", "https://contoso.example/help", "", "")
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	old.Close()

	start := time.Now()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	migrating := time.Since(start)
	for b.Loop() {
		if n, err := s.DeleteBefore(ctx, t0); err != nil || n != 0 {
			b.Fatalf("DeleteBefore: %d, %v; want nothing deleted", n, err)
		}
	}
	b.ReportMetric(float64(migrating.Milliseconds()), "ms-migrating-200k")
}

// BenchmarkRecordSaveBesideExports records saves one after another while exports of another
// tenant's long history run without pause (readers as fast as the store), none, two, or four
// at once as the app allows; a save's p99 is reported beside the mean. With SQLite the saves'
// writes have a connection of their own; with PostgreSQL they share the pool with the exports'
// page reads, two at a time at most (exportReaders):
//
//	PCS_REQUIRE_POSTGRES=1 go test ./internal/history -run '^$' -bench RecordSaveBesideExports -benchtime 2000x
func BenchmarkRecordSaveBesideExports(b *testing.B) {
	for _, backend := range []string{"SQLite", "PostgreSQL"} {
		for _, exports := range []int{0, 2, 4} {
			b.Run(fmt.Sprintf("%s/exports=%d", backend, exports), func(b *testing.B) {
				spec := "sqlite:" + filepath.Join(b.TempDir(), "history.db")
				if backend == "PostgreSQL" {
					pgtest.Start(b)
					spec = "postgres:" + pgtest.NewDatabase(b)
				}
				s := open(b, spec)
				ctx, cancel := context.WithCancel(context.Background())
				var running sync.WaitGroup
				defer func() { cancel(); running.Wait() }()
				if exports > 0 {
					at := time.Now()
					for i := range 4 * exportPageSize {
						mustObserve(b, s, "long", contacts(fmt.Sprint(i)), at.Add(time.Duration(i)*time.Millisecond))
					}
				}
				for range exports {
					running.Go(func() {
						for ctx.Err() == nil {
							_ = s.Export(ctx, "long", Filter{}, func(Entry) error { return nil })
						}
					})
				}
				at := time.Now()
				mustObserve(b, s, "T1", contacts("v0"), at)
				var took []time.Duration
				i := 0
				for b.Loop() {
					i++
					at = at.Add(time.Second)
					start := time.Now()
					if err := s.RecordSave(ctx, save("T1", fmt.Sprintf("v%d", i-1), fmt.Sprintf("v%d", i), at)); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}

// BenchmarkFilteredHistory times the history page's reads on a partner's long history (10,000
// entries among 100,000 of 100 tenants, a website change every 100th, a save every 10th): a
// page of 50 and the count, without a filter and with one that keeps few entries, and the
// people who saved. Filters have no index of their own: this tells whether they need one.
//
//	PCS_REQUIRE_POSTGRES=1 go test ./internal/history -run '^$' -bench FilteredHistory
func BenchmarkFilteredHistory(b *testing.B) {
	const entries, tenants = 100_000, 100
	for _, backend := range []string{"SQLite", "PostgreSQL"} {
		b.Run(backend, func(b *testing.B) {
			spec := "sqlite:" + filepath.Join(b.TempDir(), "history.db")
			if backend == "PostgreSQL" {
				pgtest.Start(b)
				spec = "postgres:" + pgtest.NewDatabase(b)
			}
			s := open(b, spec)
			db := rawDB(s)
			ctx := context.Background()
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			d := sqliteDialect
			if backend == "PostgreSQL" {
				d = postgresDialect
			}
			for i := range entries {
				tenant, n := fmt.Sprintf("tenant-%03d", i%tenants), i/tenants
				kind, by := "outside", Person{}
				if n%10 == 0 {
					kind, by = "saved", []Person{alice, bob, carol}[n%3]
				}
				website := "https://contoso.example/support"
				if n%100 == 0 {
					website = fmt.Sprintf("https://contoso.example/%d", n)
				}
				if _, err := tx.Exec(insertQuery, tenant, int64(i+1), kind, d.timeArg(t0.Add(time.Duration(i)*time.Second)),
					by.ObjectID, by.Name, by.Username, "support@contoso.example", fmt.Sprint(n-1), "https://contoso.example/support",
					"support@contoso.example", fmt.Sprint(n), website, "", "", int64(0)); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			if backend == "PostgreSQL" {
				if _, err := db.Exec(`ANALYZE history_entries`); err != nil {
					b.Fatal(err)
				}
			}
			rare := Filter{Field: support.Website}
			for _, c := range []struct {
				name string
				read func() error
			}{
				{"page", func() error { _, err := s.List(ctx, "tenant-042", Filter{}, Cursor{}, DefaultPageSize); return err }},
				{"page-rare-field", func() error { _, err := s.List(ctx, "tenant-042", rare, Cursor{}, DefaultPageSize); return err }},
				{"page-person-and-dates", func() error {
					_, err := s.List(ctx, "tenant-042", Filter{SavedBy: bob.Key(), From: t0.Add(24 * time.Hour), Until: t0.Add(48 * time.Hour)}, Cursor{}, DefaultPageSize)
					return err
				}},
				{"count", func() error { _, err := s.Count(ctx, "tenant-042", Filter{}); return err }},
				{"count-rare-field", func() error { _, err := s.Count(ctx, "tenant-042", rare); return err }},
				{"people", func() error { _, err := s.People(ctx, "tenant-042"); return err }},
			} {
				b.Run(c.name, func(b *testing.B) {
					reportCPU(b)
					for b.Loop() {
						if err := c.read(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
