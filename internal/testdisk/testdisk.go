// Package testdisk gives tests a tiny file system of their own, so that a full disk can be
// tested for real: a tmpfs of a chosen size, mounted in a temporary directory.
package testdisk

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size bytes and returns its directory; it is unmounted when the test
// ends. Mounting needs root (or CAP_SYS_ADMIN): elsewhere the test is skipped, unless
// PCS_REQUIRE_MOUNT=1 (as in CI), where it fails.
func Mount(t testing.TB, size int) string {
	t.Helper()
	dir := t.TempDir()
	err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)+",mode=0700")
	if err != nil {
		if os.Getenv("PCS_REQUIRE_MOUNT") == "1" {
			t.Fatalf("mount a tmpfs (PCS_REQUIRE_MOUNT=1): %v", err)
		}
		t.Skipf("cannot mount a tmpfs here (%v): skipping the full-disk test", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes a file in dir until the file system is full, leaving about leave bytes free, and
// returns a function that frees the space again.
func Fill(t testing.TB, dir string, leave int64) (free func()) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := avail - leave; n > 0 {
		if _, err := f.Write(make([]byte, n)); err != nil && !errors.Is(err, syscall.ENOSPC) {
			t.Fatal(err)
		}
	}
	f.Close()
	return func() { _ = os.Remove(path) }
}
