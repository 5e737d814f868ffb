package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/auth"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/sessionstore"
)

// Every outcome of a save made with htmx: the status, what the person reads, what the form then
// holds, what reached Partner Center, and the one audit record and metric it leaves.
func TestSaveOutcomes(t *testing.T) {
	pcErr := func(kind pcclient.Kind, status int, code string) error {
		return &pcclient.Error{Kind: kind, Status: status, Code: code, CorrelationID: "corr-upstream", RequestID: "req-upstream"}
	}
	tests := []struct {
		name     string
		setup    func(tb *testbed)
		changes  []string
		status   int
		notice   []string // in the notice
		telInput string   // the telephone input afterwards ("" to skip)
		puts     int
		outcome  string
	}{
		{name: "saved", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 200,
			notice: []string{"Saved.", "Telephone", "4255550100", "+33 1 23 45 67 89"}, telInput: "+33 1 23 45 67 89", puts: 1, outcome: "saved"},
		{name: "unchanged", status: 200, notice: []string{"Nothing to save", "same as the ones loaded"}, outcome: "unchanged"},
		{name: "invalid", changes: []string{"email", "not an address"}, status: 422,
			notice: []string{"Some values need a correction"}, outcome: "invalid"},
		{name: "already current", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 200,
			setup:  func(tb *testbed) { tb.pc.set("support@contoso.example", "+33 1 23 45 67 89", "www.contoso.example") },
			notice: []string{"Partner Center already has these values"}, telInput: "+33 1 23 45 67 89", outcome: "already_current"},
		{name: "conflict", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 409,
			setup:  func(tb *testbed) { tb.pc.set("care@contoso.example", "4255550100", "www.contoso.example") },
			notice: []string{"The support profile changed since you opened this page", "Nothing was saved."}, telInput: "+33 1 23 45 67 89", outcome: "conflict"},
		{name: "role refused", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 403, puts: 1,
			setup:  func(tb *testbed) { tb.pc.putErrs = []error{pcErr(pcclient.KindForbidden, 403, "900150")} },
			notice: []string{"Account admin", "900150", "corr-upstream", "req-upstream", "still in the form"}, telInput: "+33 1 23 45 67 89", outcome: "refused"},
		{name: "field refused", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 422, puts: 1,
			setup: func(tb *testbed) {
				tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindInvalidInput, Status: 400, Code: "3000", Description: "The property 'Telephone' is invalid."}}
			},
			notice: []string{"did not accept", "The property 'Telephone' is invalid."}, telInput: "+33 1 23 45 67 89", outcome: "refused"},
		{name: "sign-in refused after a silent refresh", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 401, puts: 2,
			setup: func(tb *testbed) {
				tb.pc.putErrs = []error{pcErr(pcclient.KindUnauthenticated, 401, "800001"), pcErr(pcclient.KindUnauthenticated, 401, "800001")}
			},
			notice: []string{"did not accept your sign-in", "Sign in again"}, outcome: "refused"},
		{name: "throttled", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 429, puts: 1,
			setup: func(tb *testbed) {
				tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindThrottled, Status: 429, RetryAfter: 90 * time.Second}}
			},
			notice: []string{"Nothing was saved.", "wait until", " UTC before saving again", "Save is turned off until then"}, outcome: "refused"},
		{name: "answer lost after the PUT", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 504, puts: 1,
			setup: func(tb *testbed) {
				tb.pc.applied, tb.pc.putErrs = true, []error{&pcclient.Error{Kind: pcclient.KindUnavailable, Err: context.DeadlineExceeded}}
			},
			notice: []string{"may or may not have stored"}, outcome: "unknown"},
		{name: "unreadable answer to the PUT", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 502, puts: 1,
			setup: func(tb *testbed) {
				tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindBadResponse, Status: 200}}
			},
			notice: []string{"may or may not have stored"}, outcome: "unknown"},
		{name: "Partner Center down at the check", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 503,
			setup:  func(tb *testbed) { tb.pc.getErrs = []error{pcErr(pcclient.KindUnavailable, 503, "")} },
			notice: []string{"not answering", "Nothing was saved"}, outcome: "refused"},
		{name: "sign-in provider down at the refresh", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 503,
			setup: func(tb *testbed) {
				tb.auth.tokenErr = fmt.Errorf("refresh: %w: connection refused", auth.ErrSignInProviderUnavailable)
			},
			notice: []string{"Microsoft sign-in is not answering", "Reference"}, telInput: "+33 1 23 45 67 89", outcome: "failed"},
		{name: "something else fails", changes: []string{"telephone", "+33 1 23 45 67 89"}, status: 500,
			setup:  func(tb *testbed) { tb.auth.tokenErr = errors.New("disk on fire") },
			notice: []string{"Something went wrong in this app", "Reference"}, outcome: "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t)
			form := tb.saveForm(tt.changes...)
			if tt.setup != nil {
				tt.setup(tb)
			}
			rec, doc := tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			notice := text(doc.Find("#notice"))
			for _, want := range tt.notice {
				if !strings.Contains(notice, want) {
					t.Errorf("notice %q lacks %q", notice, want)
				}
			}
			if tt.telInput != "" {
				if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != tt.telInput {
					t.Errorf("telephone input %q, want %q", got, tt.telInput)
				}
			}
			if tb.pc.puts != tt.puts {
				t.Errorf("%d PUTs, want %d", tb.pc.puts, tt.puts)
			}
			if got := strings.Join(tb.auditOutcomes(), ","); got != tt.outcome {
				t.Errorf("audit outcomes %q, want %q", got, tt.outcome)
			}
			if got := strings.Join(tb.saves, ","); got != tt.outcome {
				t.Errorf("counted outcomes %q, want %q", got, tt.outcome)
			}
		})
	}
}

// The audit record of a save holds who, what was typed, before and after, and the ids Microsoft
// support asks for.
func TestSaveAuditRecord(t *testing.T) {
	tb := newTestbed(t)
	form := tb.saveForm("telephone", "+33 1 23 45 67 89")
	tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
	recs := tb.auditRecords()
	if len(recs) != 1 {
		t.Fatalf("%d audit records, want 1", len(recs))
	}
	rec := recs[0]
	who, _ := rec["who"].(map[string]any)
	before, _ := rec["before"].(map[string]any)
	after, _ := rec["after"].(map[string]any)
	if who["upn"] != "ada@contoso.example" || who["tenant_id"] != "tid-contoso" || who["object_id"] != "oid-ada" {
		t.Errorf("who %v", who)
	}
	if before["telephone"] != "4255550100" || after["telephone"] != "+33 1 23 45 67 89" {
		t.Errorf("before %v, after %v", before, after)
	}
	if rec["ms_request_id"] != form.Get("submission") || rec["correlation_id"] == "" || rec["status"] != float64(200) {
		t.Errorf("ids and status %v %v %v", rec["ms_request_id"], rec["correlation_id"], rec["status"])
	}
	// The PUT carried the form's submission id as MS-RequestId, the GET and the PUT one correlation id.
	get, put := tb.pc.requests[0], tb.pc.requests[1]
	if put.RequestID != form.Get("submission") || get.CorrelationID != put.CorrelationID || get.CorrelationID != rec["correlation_id"] {
		t.Errorf("ids sent: get %+v, put %+v", get, put)
	}
}

// Without JavaScript a successful save redirects (so a reload does not post again), and the page
// it leads to says what was saved, once.
func TestSaveWithoutJavaScript(t *testing.T) {
	tb := newTestbed(t)
	rec, _ := tb.request(http.MethodPost, "/save", tb.saveForm("website", "https://help.contoso.example"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("save: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	_, doc := tb.request(http.MethodGet, "/", nil)
	if got := text(doc.Find("#notice")); !strings.Contains(got, "Saved.") || !strings.Contains(got, "https://help.contoso.example") {
		t.Errorf("page after the redirect: %q", got)
	}
	if _, doc = tb.request(http.MethodGet, "/", nil); doc.Find("#notice").Length() != 0 {
		t.Errorf("the message came back: %q", text(doc.Find("#notice")))
	}

	// Other outcomes answer with the whole page, form as typed.
	rec, doc = tb.request(http.MethodPost, "/save", tb.saveForm("email", "nope"))
	if rec.Code != http.StatusUnprocessableEntity || doc.Find("html").Length() == 0 || doc.Find(`input[name="email"]`).AttrOr("value", "") != "nope" {
		t.Errorf("invalid without JavaScript: %d, value %q", rec.Code, doc.Find(`input[name="email"]`).AttrOr("value", ""))
	}
}

// One click, one change: the same rendered form sent twice is saved once; the second gets the
// first's outcome.
func TestRepeatedSubmissionSavesOnce(t *testing.T) {
	tb := newTestbed(t)
	form := tb.saveForm("telephone", "+33 1 23 45 67 89")
	for i := range 2 {
		rec, doc := tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
		if rec.Code != http.StatusOK || !strings.Contains(text(doc.Find("#notice")), "Saved.") {
			t.Errorf("submission %d: %d %q", i+1, rec.Code, text(doc.Find("#notice")))
		}
	}
	if tb.pc.puts != 1 {
		t.Errorf("%d PUTs, want 1", tb.pc.puts)
	}
	if got := strings.Join(tb.auditOutcomes(), ","); got != "saved,duplicate" {
		t.Errorf("audit outcomes %q", got)
	}
}

// A token Partner Center refuses is renewed once, silently, and the call repeated.
func TestSilentRefreshAfterA401(t *testing.T) {
	tb := newTestbed(t)
	tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindUnauthenticated, Status: 401, Code: "800001"}}
	rec, _ := tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+33 1 23 45 67 89"), "HX-Request", "true")
	if rec.Code != http.StatusOK || tb.auth.refreshes != 1 || tb.pc.puts != 2 {
		t.Errorf("status %d, %d refreshes, %d PUTs; want 200, 1, 2", rec.Code, tb.auth.refreshes, tb.pc.puts)
	}
	// When the renewal itself needs a sign-in, the person is sent to sign in with values kept.
	tb = newTestbed(t)
	tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindUnauthenticated, Status: 401, Code: "800001"}}
	tb.auth.refreshErr = fmt.Errorf("refresh token refused: %w", auth.ErrSignInRequired)
	rec, _ = tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+33 1 23 45 67 89"), "HX-Request", "true")
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("HX-Redirect"), "/auth/signin") ||
		tb.auth.kept.Get("telephone") != "+33 1 23 45 67 89" {
		t.Errorf("refused renewal: %d, HX-Redirect %q, kept %v", rec.Code, rec.Header().Get("HX-Redirect"), tb.auth.kept)
	}
	if got := strings.Join(tb.auditOutcomes(), ","); got != "sign_in_required" {
		t.Errorf("audit outcomes %q", got)
	}

	// The token expires between the refused call and the renewal, whose refresh is refused: still
	// a sign-in, never Partner Center's 401 shown as a refusal.
	tb = newTestbed(t)
	tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindUnauthenticated, Status: 401, Code: "800001"}}
	tb.auth.tokenRefusedFrom = 3 // the GET's token, the PUT's, then none
	tb.auth.refreshErr = fmt.Errorf("refresh token refused: %w", auth.ErrSignInRequired)
	rec, _ = tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+33 1 23 45 67 89"), "HX-Request", "true")
	if rec.Code != http.StatusUnauthorized || tb.auth.kept.Get("telephone") != "+33 1 23 45 67 89" {
		t.Errorf("refresh refused while renewing: %d, kept %v", rec.Code, tb.auth.kept)
	}
	if got := strings.Join(tb.auditOutcomes(), ","); got != "sign_in_required" {
		t.Errorf("refresh refused while renewing: audit outcomes %q, want sign_in_required", got)
	}
}

// Partner Center requires MFA: a person signed in without it is told before any call.
func TestSaveWithoutMFA(t *testing.T) {
	tb := newTestbed(t)
	tb.auth.user.AMR = []string{"pwd"}
	rec, _ := tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+33 1 23 45 67 89"), "HX-Request", "true")
	if rec.Code != http.StatusForbidden || rec.Header().Get("HX-Redirect") != "/" || tb.pc.gets+tb.pc.puts != 0 {
		t.Errorf("htmx: %d to %q, %d calls", rec.Code, rec.Header().Get("HX-Redirect"), tb.pc.gets+tb.pc.puts)
	}
	rec, doc := tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+33 1 23 45 67 89"))
	if rec.Code != http.StatusForbidden || !strings.Contains(text(doc.Find("main")), "multi-factor authentication") {
		t.Errorf("plain POST: %d %q", rec.Code, text(doc.Find("main")))
	}
}

// A form sent after the session ended is kept for its owner (when it fits the form's limits)
// and the person is sent to sign in; without a known owner nothing is kept.
func TestSaveIntoAnEndedSession(t *testing.T) {
	tests := []struct {
		name     string
		changes  []string
		keepErr  error
		wantKept bool
	}{
		{"kept", []string{"email", "helpdesk@contoso.example"}, nil, true},
		{"too long to keep", []string{"email", strings.Repeat("a", 300) + "@contoso.example"}, nil, false},
		{"nobody known", []string{"email", "helpdesk@contoso.example"}, auth.ErrNoOwner, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t)
			form := tb.saveForm(tt.changes...)
			tb.auth.user, tb.auth.keepErr = nil, tt.keepErr
			rec, _ := tb.request(http.MethodPost, "/save", form)
			if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/auth/signin?next=%2F") {
				t.Errorf("answer %d to %q", rec.Code, rec.Header().Get("Location"))
			}
			if kept := tb.auth.kept != nil; kept != tt.wantKept {
				t.Errorf("kept %v, want %v", kept, tt.wantKept)
			}
			if tb.auth.kept != nil && (tb.auth.kept.Get("email") != form.Get("email") || tb.auth.kept.Get("loaded") != form.Get("loaded")) {
				t.Errorf("kept %v", tb.auth.kept)
			}
			if strings.Contains(rec.Header().Get("Location"), "helpdesk") {
				t.Error("typed values leaked into a URL")
			}
		})
	}
}

// With the session store down nobody is sent to sign in (that would fail too); a save keeps
// what was typed in the form.
func TestSessionStoreDown(t *testing.T) {
	tb := newTestbed(t)
	form := tb.saveForm("email", "helpdesk@contoso.example")
	tb.auth.user, tb.auth.userErr = nil, fmt.Errorf("read: %w", sessionstore.ErrUnavailable)

	rec, doc := tb.request(http.MethodGet, "/", nil)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(text(doc.Find("main")), "Your session cannot be read right now") {
		t.Errorf("page: %d %q", rec.Code, text(doc.Find("main")))
	}
	rec, doc = tb.request(http.MethodPost, "/save", form)
	if rec.Code != http.StatusServiceUnavailable || doc.Find(`input[name="email"]`).AttrOr("value", "") != "helpdesk@contoso.example" {
		t.Errorf("plain save: %d, email %q", rec.Code, doc.Find(`input[name="email"]`).AttrOr("value", ""))
	}
	rec, doc = tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("HX-Retarget") != "#alerts" || doc.Find("input").Length() != 0 {
		t.Errorf("htmx save: %d, retarget %q (the form in the page stays as it is)", rec.Code, rec.Header().Get("HX-Retarget"))
	}
	if tb.pc.gets+tb.pc.puts != 0 {
		t.Error("Partner Center was called")
	}
}

// The CSRF token must come back in the form body or the htmx header; never from the URL, and
// never from another site.
func TestCSRF(t *testing.T) {
	tests := []struct {
		name   string
		form   func(url.Values) url.Values
		path   string
		header []string
		status int
	}{
		{"token in the form", func(f url.Values) url.Values { return f }, "/save", nil, 200},
		{"token in the htmx header", func(f url.Values) url.Values { f.Set(csrfField, ""); return f }, "/save",
			[]string{csrfHeader, testCSRF}, 200},
		{"no token", func(f url.Values) url.Values { f.Set(csrfField, ""); return f }, "/save", nil, 403},
		{"a wrong token", func(f url.Values) url.Values { f.Set(csrfField, "guess"); return f }, "/save", nil, 403},
		{"token in the query string", func(f url.Values) url.Values { f.Set(csrfField, ""); return f }, "/save?_csrf=" + testCSRF, nil, 403},
		{"from another site", func(f url.Values) url.Values { return f }, "/save", []string{"Sec-Fetch-Site", "cross-site"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t)
			headers := append([]string{"HX-Request", "true"}, tt.header...)
			rec, _ := tb.request(http.MethodPost, tt.path, tt.form(tb.saveForm("telephone", "+33 1 23 45 67 89")), headers...)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if (tb.pc.puts == 1) != (tt.status == 200) {
				t.Errorf("%d PUTs", tb.pc.puts)
			}
		})
	}

	// A page sets the token's cookie and puts the token in its forms.
	tb := newTestbed(t)
	rec := httptestGet(tb, "/")
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == csrfCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || len(cookie.Value) < 32 ||
		!strings.Contains(rec.Body.String(), `value="`+cookie.Value+`"`) {
		t.Errorf("CSRF cookie %+v, in the page: %v", cookie, cookie != nil && strings.Contains(rec.Body.String(), cookie.Value))
	}
}

// httptestGet sends a GET without any cookie, as a first visit.
func httptestGet(tb *testbed, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	tb.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}
