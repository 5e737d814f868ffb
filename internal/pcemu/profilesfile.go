package pcemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// profilesFile is where the stored support profiles are kept between runs, as Partner Center
// keeps them: without it, a restarted emulator would give every tenant its first values again,
// and an app that remembers what it read would see a change nobody made.
type profilesFile struct {
	mu   sync.Mutex // one write at a time, each of the state as it is when the write begins
	path string
}

// storedProfiles is the file's content.
type storedProfiles struct {
	Profiles map[string]profileChange `json:"profiles"` // by tenant id; TenantID left empty
}

// KeepProfilesIn loads the support profiles kept in the JSON file at path, when it exists, and
// from then on writes every change of a stored profile to it (a whole new file each time,
// synced, then renamed over the old one, so that a crash leaves the old file or the new one).
// Seed profiles and organizations first: what the file holds wins.
func (e *Emulator) KeepProfilesIn(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("pcemu: profiles file: %w", err)
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("pcemu: profiles file: %w", err)
	default:
		var in storedProfiles
		if err := json.Unmarshal(data, &in); err != nil {
			return fmt.Errorf("pcemu: profiles file %s: %w", path, err)
		}
		e.mu.Lock()
		for id, p := range in.Profiles {
			e.tenantLocked(id).profile = profile{Email: p.Email, Telephone: p.Telephone, Website: p.Website}
		}
		e.mu.Unlock()
	}
	e.profilesFile.mu.Lock()
	e.profilesFile.path = path
	e.profilesFile.mu.Unlock()
	return nil
}

// keepProfiles writes the stored profiles to the profiles file, if there is one. A failure is
// logged: the change holds in memory, as the request that made it was told.
func (e *Emulator) keepProfiles() {
	f := &e.profilesFile
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.path == "" {
		return
	}
	out := storedProfiles{Profiles: map[string]profileChange{}}
	e.mu.Lock()
	for id, t := range e.tenants {
		out.Profiles[id] = profileChange{Email: t.profile.Email, Telephone: t.profile.Telephone, Website: t.profile.Website}
	}
	e.mu.Unlock()
	data, err := json.MarshalIndent(out, "", "  ")
	if err == nil {
		err = writeFileAtomically(f.path, append(data, '\n'))
	}
	if err != nil {
		e.log.Error("pcemu: the profiles file could not be written; the change is kept in memory only", "path", f.path, "err", err)
	}
}

// writeFileAtomically replaces name with data: a temporary file beside it, synced, renamed over
// it, and the directory synced so that the rename itself survives a crash.
func writeFileAtomically(name string, data []byte) error {
	dir := filepath.Dir(name)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
