package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// The fault suite: for every failure Partner Center (or the way to it) can produce, a save shows
// what it means and what to do, with the status, the code and the correlation id, keeps what was
// typed, answers with an honest status, and leaves Partner Center's stored profile as it should be.
func TestFaultSuite(t *testing.T) {
	t.Parallel()
	const typed = "+33 1 23 45 67 89"
	put, get := http.MethodPut, http.MethodGet
	tests := []struct {
		name       string
		faults     []pcemu.Fault
		args       []string
		wantStatus int
		wantText   []string // in the outcome message
		wantField  string   // a field marked in error
		wantSaved  bool     // Partner Center holds the typed value afterwards
	}{
		{name: "400/3000 names the field", faults: []pcemu.Fault{{Method: put, Status: 400, Code: "3000", Description: "The property 'Telephone' is invalid."}},
			wantStatus: 422, wantText: []string{"did not accept", "3000", "Correlation id"}, wantField: "telephone"},
		{name: "400/800002 invalid input", faults: []pcemu.Fault{{Method: put, Status: 400, Code: "800002", Description: "Invalid request input."}},
			wantStatus: 422, wantText: []string{"did not accept", "800002"}},
		{name: "401/800001 once: silent refresh, then saved", faults: []pcemu.Fault{{Method: put, Status: 401, Code: "800001"}},
			wantStatus: 200, wantText: []string{"Saved"}, wantSaved: true},
		{name: "401/400 twice: sign in again", faults: []pcemu.Fault{{Method: put, Status: 401, Code: "400", Count: 2}},
			wantStatus: 401, wantText: []string{"did not accept your sign-in", "Sign in again", "400"}},
		{name: "401/10001 MFA required", faults: []pcemu.Fault{{Method: put, Status: 401, Code: "10001"}},
			wantStatus: 403, wantText: []string{"multi-factor authentication", "10001"}},
		{name: "401/900421 MFA claim missing", faults: []pcemu.Fault{{Method: get, Status: 401, Code: "900421"}},
			wantStatus: 403, wantText: []string{"multi-factor authentication", "900421"}},
		{name: "401/900420 wrong audience", faults: []pcemu.Fault{{Method: put, Status: 401, Code: "900420"}},
			wantStatus: 502, wantText: []string{"not set up correctly", "900420"}},
		{name: "403/900150 role", faults: []pcemu.Fault{{Method: put, Status: 403, Code: "900150"}},
			wantStatus: 403, wantText: []string{"Account admin", "900150"}},
		{name: "403/2032 role", faults: []pcemu.Fault{{Method: put, Status: 403, Code: "2032"}},
			wantStatus: 403, wantText: []string{"Account admin", "2032"}},
		{name: "404/1000 no profile yet", faults: []pcemu.Fault{{Method: get, Status: 404, Code: "1000"}},
			wantStatus: 404, wantText: []string{"no support profile", "1000"}},
		{name: "409 conflict", faults: []pcemu.Fault{{Method: put, Status: 409}},
			wantStatus: 409, wantText: []string{"changed the support profile at the same time", "Reload"}},
		{name: "429 long wait is shown", faults: []pcemu.Fault{{Method: put, Status: 429, RetryAfter: 120 * time.Second}},
			wantStatus: 429, wantText: []string{"wait until", "Save is turned off until then"}},
		{name: "429 short wait is waited out", faults: []pcemu.Fault{{Method: put, Status: 429, RetryAfter: time.Second}},
			wantStatus: 200, wantText: []string{"Saved"}, wantSaved: true},
		{name: "500/800003 three times on PUT", faults: []pcemu.Fault{{Method: put, Status: 500, Code: "800003", Count: 3}},
			wantStatus: 503, wantText: []string{"not answering", "may or may not have stored", "800003"}},
		{name: "502 three times on GET", faults: []pcemu.Fault{{Method: get, Status: 502, Count: 3}},
			wantStatus: 503, wantText: []string{"not answering", "Nothing was saved", "502"}},
		{name: "503 once is retried, then saved", faults: []pcemu.Fault{{Method: put, Status: 503}},
			wantStatus: 200, wantText: []string{"Saved"}, wantSaved: true},
		{name: "504 three times", faults: []pcemu.Fault{{Method: get, Status: 504, Count: 3}},
			wantStatus: 503, wantText: []string{"not answering", "504"}},
		{name: "408 three times", faults: []pcemu.Fault{{Method: get, Status: 408, Count: 3}},
			wantStatus: 503, wantText: []string{"not answering", "408"}},
		{name: "timeout", faults: []pcemu.Fault{{Method: get, Delay: 10 * time.Second, Count: 3}}, args: []string{"--pc-timeout", "1s"},
			wantStatus: 504, wantText: []string{"did not answer in time", "Correlation id"}},
		{name: "connection reset on PUT", faults: []pcemu.Fault{{Method: put, Reset: true, Count: 3}},
			wantStatus: 504, wantText: []string{"connection to it failed", "may or may not have stored"}},
		{name: "malformed JSON on GET", faults: []pcemu.Fault{{Method: get, Status: 200, Body: pcemu.BodyMalformed}},
			wantStatus: 502, wantText: []string{"could not read", "Nothing was saved"}},
		{name: "truncated JSON on PUT", faults: []pcemu.Fault{{Method: put, Status: 200, Body: pcemu.BodyTruncated}},
			wantStatus: 502, wantText: []string{"could not read", "may or may not have stored"}},
		{name: "oversized body on GET", faults: []pcemu.Fault{{Method: get, Status: 200, Body: pcemu.BodyOversized}},
			wantStatus: 502, wantText: []string{"could not read"}},
		{name: "HTML page from a gateway", faults: []pcemu.Fault{{Method: put, Status: 502, Body: pcemu.BodyHTML, Count: 3}},
			wantStatus: 503, wantText: []string{"not answering", "502"}},
		{name: "empty error body", faults: []pcemu.Fault{{Method: put, Status: 503, Body: pcemu.BodyEmpty, Count: 3}},
			wantStatus: 503, wantText: []string{"not answering", "503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := startApp(t, tt.args...)
			b := newBrowser(t)
			form := formValues(b.signIn(app, "admin"))
			_, oldTel, _ := app.dev.emu.Profile(devidp.TenantID)
			form.Set("telephone", typed)
			for _, f := range tt.faults {
				app.dev.emu.InjectFaults(f)
			}

			resp, frag := b.post(app.url+"save", form, "HX-Request", "true")
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			msg := text(frag.Find("#notice"))
			for _, want := range tt.wantText {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			if got := frag.Find(`input[name="telephone"]`).AttrOr("value", ""); got != typed {
				t.Errorf("typed telephone not kept: %q", got)
			}
			if tt.wantField != "" && frag.Find("#"+tt.wantField+"-error").Length() == 0 {
				t.Errorf("no error on %s", tt.wantField)
			}
			_, tel, _ := app.dev.emu.Profile(devidp.TenantID)
			if want := map[bool]string{true: typed, false: oldTel}[tt.wantSaved]; tel != want {
				t.Errorf("Partner Center holds %q, want %q", tel, want)
			}
			if tt.wantStatus != 200 && frag.Find(`button[type="submit"]`).Length() != 1 {
				t.Error("no way to try again with the same values")
			}
		})
	}
}

// With Partner Center unreachable (connection refused), the person is told so.
func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	app.dev.StopEmulator()
	form.Set("telephone", "+33 1 23 45 67 89")
	resp, frag := b.post(app.url+"save", form, "HX-Request", "true")
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(text(frag.Find("#notice")), "connection to it failed") {
		t.Errorf("refused connection: %d %q", resp.StatusCode, text(frag.Find("#notice")))
	}
	if v := frag.Find(`input[name="telephone"]`).AttrOr("value", ""); v != "+33 1 23 45 67 89" {
		t.Errorf("typed value lost: %q", v)
	}
}
