package sessionstore

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"pcsupport/internal/testdisk"
)

func newFileStore(t *testing.T, dir string) *FileStore {
	t.Helper()
	store, err := NewFileStore(dir, CookieOptions{Path: "/", Lifetime: 8 * time.Hour}, testKeys()...)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// listDir names what dir holds.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Readiness fails while the session directory is full, and passes again once there is room;
// the probe leaves nothing behind.
func TestFileStoreProbeOnAFullDisk(t *testing.T) {
	dir := testdisk.Mount(t, 256<<10)
	store := newFileStore(t, dir+"/sessions")
	if err := store.Probe(t.Context()); err != nil {
		t.Fatalf("Probe with room to spare: %v", err)
	}
	if left := listDir(t, dir+"/sessions"); len(left) != 0 {
		t.Errorf("the probe left %v behind", left)
	}

	free := testdisk.Fill(t, dir, 0)
	err := store.Probe(t.Context())
	if err == nil || !strings.Contains(err.Error(), "cannot write") {
		t.Errorf("Probe on a full disk: %v, want a failure to write", err)
	}
	free()
	if err := store.Probe(t.Context()); err != nil {
		t.Errorf("Probe once there is room again: %v", err)
	}
	if left := listDir(t, dir+"/sessions"); len(left) != 0 {
		t.Errorf("the probes left %v behind", left)
	}
}

// Readiness fails while the session directory is read-only (a volume remounted read-only after
// an error), and passes again once it is writable.
func TestFileStoreProbeOnAReadOnlyDisk(t *testing.T) {
	dir := testdisk.Mount(t, 256<<10)
	store := newFileStore(t, dir)
	remount := func(flags uintptr) {
		t.Helper()
		if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|flags, ""); err != nil {
			t.Fatalf("remount: %v", err)
		}
	}
	remount(syscall.MS_RDONLY)
	err := store.Probe(t.Context())
	if err == nil || !strings.Contains(err.Error(), "cannot write") {
		t.Errorf("Probe on a read-only disk: %v, want a failure to write", err)
	}
	remount(0)
	if err := store.Probe(t.Context()); err != nil {
		t.Errorf("Probe once writable again: %v", err)
	}
}

// A session directory that cannot be made stops the start, saying which.
func TestFileStoreWithoutItsDirectory(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileStore(filepath.Join(blocker, "sessions"), CookieOptions{Path: "/", Lifetime: time.Hour}, testKeys()...); err == nil ||
		!strings.Contains(err.Error(), "session directory") {
		t.Errorf("NewFileStore under a file: %v, want an error about the session directory", err)
	}
}

// The sweep deletes the sessions nobody wrote for longer than their lifetime (they no longer
// load anyway) and temporary files a crash left, and keeps the rest: live sessions, a write
// under way, files it does not know. The count goes to the log.
func TestSweepDeletesExpiredSessionFiles(t *testing.T) {
	dir := t.TempDir()
	store := newFileStore(t, dir)
	newSession := func() (*http.Cookie, string) {
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		c := save(t, store, s)
		return c, sessionFilePrefix + s.ID
	}
	now := time.Now()
	age := func(name string, d time.Duration) {
		t.Helper()
		if err := os.Chtimes(filepath.Join(dir, name), now.Add(-d), now.Add(-d)); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, d time.Duration) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		age(name, d)
	}
	abandoned, abandonedFile := newSession()
	age(abandonedFile, 8*time.Hour+time.Minute)
	live, liveFile := newSession()
	age(liveFile, 7*time.Hour)
	write(".tmp-session_CRASHED-123", 2*time.Minute)  // left by a crash
	write(".tmp-session_WRITING-456", 10*time.Second) // a write under way
	write("lost+found-note", 48*time.Hour)            // not the store's

	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // one sweep, then it stops
	SweepFileSessions(ctx, dir, 8*time.Hour, time.Hour, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	left := listDir(t, dir)
	slices.Sort(left)
	want := []string{".tmp-session_WRITING-456", liveFile, "lost+found-note"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("after the sweep the directory holds %v, want %v", left, want)
	}
	if !strings.Contains(logs.String(), "removed expired session files") || !strings.Contains(logs.String(), "count=2") {
		t.Errorf("the log says %q, want the two files removed", logs.String())
	}
	if got := load(t, store, live); got.IsNew {
		t.Error("the live session was swept")
	}
	if got := load(t, store, abandoned); !got.IsNew {
		t.Error("the abandoned session still loads")
	}

	// Nothing to sweep, nothing logged; a directory gone is no failure.
	logs.Reset()
	SweepFileSessions(ctx, dir, 8*time.Hour, time.Hour, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	SweepFileSessions(ctx, filepath.Join(dir, "gone"), 8*time.Hour, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	if logs.Len() != 0 {
		t.Errorf("a sweep with nothing to do logs %q", logs.String())
	}
}
