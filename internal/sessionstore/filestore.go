package sessionstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// FileStore keeps sessions in files, one per session, encrypted and signed with the session
// keys; the cookie holds only the signed and encrypted session id. Sessions survive a restart.
//
// It replaces gorilla's FilesystemStore, which truncates a session's file and then writes it:
// a write that fails halfway (a full disk) left half a session, and the person signed out. Here
// a write goes to a temporary file that is synced and then renamed over the old one, so a
// failed write leaves the old session whole.
type FileStore struct {
	*sealedStore
	files *sessionFiles
}

// sessionFiles are sessions in a directory: the FileStore's backend.
type sessionFiles struct {
	dir string
	// createTemp makes the temporary file a write goes to; tests make one that fails halfway.
	createTemp func(dir, pattern string) (tempFile, error)
}

// tempFile is what a write needs of a temporary file.
type tempFile interface {
	Write([]byte) (int, error)
	Sync() error
	Close() error
	Name() string
}

const sessionFilePrefix = "session_"

// NewFileStore keeps sessions in files under dir, encrypted and signed with keyPairs (the first
// pair for new data; older pairs still read).
func NewFileStore(dir string, opts CookieOptions, keyPairs ...[]byte) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("session directory: %w", err)
	}
	files := &sessionFiles{dir: dir, createTemp: func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }}
	return &FileStore{sealedStore: newSealedStore(files, opts, keyPairs), files: files}, nil
}

// version is the file's identity, one stat: every write renames a new file into place.
func (f *sessionFiles) version(_ context.Context, id string) (string, string, bool, error) {
	info, err := os.Stat(f.path(id))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", "", false, nil
	case err != nil:
		return "", "", false, err
	}
	st, _ := info.Sys().(*syscall.Stat_t)
	var ino uint64
	if st != nil {
		ino = st.Ino
	}
	return fmt.Sprintf("%d:%d:%d", ino, info.Size(), info.ModTime().UnixNano()), "", true, nil
}

func (f *sessionFiles) read(_ context.Context, id string) (string, bool, error) {
	data, err := os.ReadFile(f.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	return string(data), err == nil, err
}

func (f *sessionFiles) write(_ context.Context, id, data string, _ time.Duration) error {
	return f.writeFile(f.path(id), []byte(data)) // expiry: SweepFileSessions, and the codecs
}

func (f *sessionFiles) remove(_ context.Context, id string) error {
	if err := os.Remove(f.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (f *sessionFiles) path(id string) string { return filepath.Join(f.dir, sessionFilePrefix+id) }

// Probe writes, reads back and removes a small file the way sessions are written, so that
// readiness fails on a full or read-only data directory.
func (s *FileStore) Probe(context.Context) error {
	path := filepath.Join(s.files.dir, ".probe")
	want := []byte(randomString())
	if err := s.files.writeFile(path, want); err != nil {
		return fmt.Errorf("session store (files) cannot write: %w", err)
	}
	defer os.Remove(path)
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		return fmt.Errorf("session store (files) cannot read back what it wrote: %v", err)
	}
	return nil
}

// writeFile replaces path's contents, or leaves the old ones whole: the data goes to a temporary
// file beside it, which is synced, then renamed over path.
func (f *sessionFiles) writeFile(path string, data []byte) error {
	tmp, err := f.createTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
