package sessionstore

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"pcsupport/internal/testdisk"
)

// A session write that fails halfway (the disk filled up) leaves the session as it was: the
// person stays signed in, and what the session held (the one-time "Saved" message) is not lost.
func TestFullDiskLeavesTheSessionAsItWas(t *testing.T) {
	dir := testdisk.Mount(t, 256<<10)
	opts := CookieOptions{Path: "/", Lifetime: 8 * time.Hour}
	store, err := NewFileStore(dir+"/sessions", opts, securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
	want := realisticSession()
	s.Values["data"] = want
	s.AddFlash([]byte("Saved"))
	c := save(t, store, s)

	free := testdisk.Fill(t, dir, 2<<10)
	defer free()
	s = load(t, store, c)
	s.Values["data"] = want
	s.AddFlash([]byte(strings.Repeat("a much longer message ", 1000)))
	if err := store.Save(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder(), s); err == nil {
		t.Fatal("a write larger than the free space succeeded: the test did not fill the disk")
	}

	got := load(t, store, c)
	if got.IsNew || !reflect.DeepEqual(got.Values["data"], want) {
		t.Fatalf("after a failed write the session is gone (IsNew %v)", got.IsNew)
	}
	if f := got.Flashes(); len(f) != 1 || string(f[0].([]byte)) != "Saved" {
		t.Errorf("after a failed write the one-time message is %v, want the one saved before", f)
	}
}

// The same without a tiny disk: the temporary file's write fails halfway, as on a full disk.
func TestFailedWriteLeavesTheSessionAsItWas(t *testing.T) {
	dir := t.TempDir()
	store, err := NewFileStore(dir, CookieOptions{Path: "/", Lifetime: 8 * time.Hour}, securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
	want := realisticSession()
	s.Values["data"] = want
	s.AddFlash([]byte("Saved"))
	c := save(t, store, s)

	store.files.createTemp = func(dir, pattern string) (tempFile, error) {
		f, err := os.CreateTemp(dir, pattern)
		return &fullDisk{File: f, room: 1000}, err
	}
	s = load(t, store, c)
	s.AddFlash([]byte("a second message"))
	if err := store.Save(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder(), s); err == nil {
		t.Fatal("the write that failed halfway reported success")
	}
	got := load(t, store, c)
	if got.IsNew || !reflect.DeepEqual(got.Values["data"], want) || len(got.Flashes()) != 1 {
		t.Errorf("after a failed write: IsNew %v, the session as it was: %v", got.IsNew, reflect.DeepEqual(got.Values["data"], want))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// fullDisk is a file with room for a few bytes only.
type fullDisk struct {
	*os.File
	room int
}

func (f *fullDisk) Write(b []byte) (int, error) {
	if len(b) > f.room {
		n, _ := f.File.Write(b[:f.room])
		f.room = 0
		return n, syscall.ENOSPC
	}
	f.room -= len(b)
	return f.File.Write(b)
}
