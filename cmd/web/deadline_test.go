package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/pcemu"
)

// A save whose Partner Center PUT never answers is answered by the app itself, in words, before
// its request deadline passes: a proxy in front (nginx 60 s, Application Gateway 20 s, Front
// Door 30 s) would otherwise replace the explanation with its own 504.
func TestSaveAnsweredBeforeTheRequestDeadline(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--request-deadline", "3s") // --pc-timeout stays 30 s: the request's deadline is the shorter
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	f := formValues(doc)
	f.Set("telephone", "+1 425 555 0177")
	app.dev.emu.InjectFaults(pcemu.Fault{Method: http.MethodPut, Delay: time.Minute})

	start := time.Now()
	resp, frag := b.post(app.url+"save", f, "HX-Request", "true")
	took := time.Since(start)
	if took > 3*time.Second {
		t.Errorf("the save was answered after %s, past its 3 s deadline", took.Round(time.Millisecond))
	}
	got := text(frag.Find("#notice"))
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(got, "may or may not have stored") || !strings.Contains(got, "Correlation id") {
		t.Errorf("the answer: %d %q; want the app's words that the change may have been stored, with the ids", resp.StatusCode, got)
	}
	if v := frag.Find(`input[name="telephone"]`).AttrOr("value", ""); v != "+1 425 555 0177" {
		t.Errorf("the typed value is not kept: %q", v)
	}
}
