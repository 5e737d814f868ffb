package main

import (
	"net/http"
	"strings"
	"testing"
)

// `web --dev` started again on the same data directory finds the support profile as it was
// saved: the emulator keeps its profiles there, so the change history records no change that
// nobody made.
func TestDevRestartKeepsTheSupportProfiles(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	args := []string{"--dev", "--listen", "127.0.0.1:0", "--data-dir", dataDir}
	t.Run("first run", func(t *testing.T) {
		app := runApp(t, args...)
		b := newBrowser(t)
		f := formValues(b.signIn(app, "admin"))
		f.Set("telephone", "+1 425 555 0142")
		if resp, doc := b.post(app.url+"save", f); resp.StatusCode != http.StatusOK || !strings.Contains(text(doc.Find("main")), "Saved.") {
			t.Fatalf("save: %d %q", resp.StatusCode, text(doc.Find("main")))
		}
	})
	t.Run("after a restart", func(t *testing.T) {
		app := runApp(t, args...)
		doc := newBrowser(t).signIn(app, "admin")
		if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != "+1 425 555 0142" {
			t.Errorf("after a restart the telephone is %q, want the one saved before", got)
		}
		if line := text(doc.Find("#last-change")); !strings.Contains(line, "by Ada Admin") || strings.Contains(line, "outside this app") {
			t.Errorf("after a restart the history says %q, want the last save by Ada Admin", line)
		}
	})
}
