package main

import (
	"net/http"
	"strings"
	"testing"

	"pcsupport/internal/testdisk"
)

// /readyz fails when the data directory is full: sessions could not be written.
func TestReadinessFailsWhenTheDataDirectoryIsFull(t *testing.T) {
	t.Parallel()
	dataDir := testdisk.Mount(t, 1<<20)
	app := startApp(t, "--data-dir", dataDir)
	if status, body := getReadyz(t, app); status != http.StatusOK {
		t.Fatalf("readyz before: %d\n%s", status, body)
	}
	free := testdisk.Fill(t, dataDir, 0)
	defer free()
	if status, body := getReadyz(t, app); status != http.StatusServiceUnavailable || !strings.Contains(body, "session store: not ready") {
		t.Errorf("readyz with the data directory full: %d\n%s", status, body)
	}
}

// With the data directory full, a save without JavaScript that Partner Center took still says
// so after its redirect, and that the history could not record it; the message shows once, and
// a later save shows its own.
func TestSavedMessageWithoutJavaScriptOnAFullDisk(t *testing.T) {
	t.Parallel()
	dataDir := testdisk.Mount(t, 1<<20)
	app := startApp(t, "--data-dir", dataDir)
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	free := testdisk.Fill(t, dataDir, 0)
	defer free()

	save := func(tel string) string {
		t.Helper()
		f := formValues(doc)
		f.Set("telephone", tel)
		resp, page := b.post(app.url+"save", f)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != app.url {
			t.Fatalf("save %s: %d at %s", tel, resp.StatusCode, resp.Request.URL)
		}
		doc = page
		return text(page.Find("main"))
	}
	got := save("+1 425 555 0111")
	if !strings.Contains(got, "Saved.") || !strings.Contains(got, "could not record this save") || !strings.Contains(got, "+1 425 555 0111") {
		t.Errorf("after the first save: %q", got)
	}
	_, again := b.get(app.url)
	if strings.Contains(text(again.Find("main")), "Saved.") {
		t.Errorf("the one-time message shows again on reload: %q", text(again.Find("main")))
	}
	doc = again
	got = save("+1 425 555 0112")
	if !strings.Contains(got, "+1 425 555 0111 → +1 425 555 0112") || strings.Count(got, "Saved.") != 1 {
		t.Errorf("after the second save: %q", got)
	}
}
