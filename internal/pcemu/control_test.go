package pcemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// resolve follows a relative Location the way a browser does.
func resolve(t *testing.T, from, location string) string {
	t.Helper()
	base, _ := url.Parse(from)
	ref, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	return base.ResolveReference(ref).Path
}

func postForm(t *testing.T, e *Emulator, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	return rec
}

func TestControlPage(t *testing.T) {
	e := newTestEmulator(t, Options{})
	serve(t, e, request{token: userToken(t, tenantA, readerOID)})
	e.InjectFaults(Fault{Status: 503, Method: "PUT", Count: 2})
	rec := serve(t, e, request{path: "/_emulator/"})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find("script").Length() != 0 {
		t.Error("the page has a script")
	}
	text := doc.Text()
	for _, want := range []string{tenantA, "support@contoso-partner.example", "503"} {
		if !strings.Contains(text, want) {
			t.Errorf("page does not show %q", want)
		}
	}
	doc.Find("input, select").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("control %v has no label", s.AttrOr("name", "?"))
		}
	})
	actions := map[string]bool{}
	doc.Find("form").Each(func(_ int, s *goquery.Selection) {
		actions[resolve(t, "/_emulator/", s.AttrOr("action", ""))] = s.AttrOr("method", "") == "post"
	})
	for _, path := range []string{"/_emulator/faults", "/_emulator/faults/clear", "/_emulator/reset"} {
		if !actions[path] {
			t.Errorf("no form posting to %s (forms: %v)", path, actions)
		}
	}
}

func TestControlFormQueuesAFault(t *testing.T) {
	e := newTestEmulator(t, Options{})
	rec := postForm(t, e, "/_emulator/faults", url.Values{
		"count": {"2"}, "method": {"GET"}, "status": {"429"}, "code": {""}, "description": {""},
		"retryAfterSeconds": {"7"}, "delayMs": {"15"}, "body": {"truncated"}, "reset": {"true"},
	})
	if rec.Code != http.StatusSeeOther || resolve(t, "/_emulator/faults", rec.Header().Get("Location")) != "/_emulator/" {
		t.Fatalf("%d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	faults := e.snapshot().Faults
	want := faultJSON{Count: 2, Method: "GET", Status: 429, RetryAfterSeconds: 7, DelayMs: 15, Body: "truncated", Reset: true}
	if len(faults) != 1 || faults[0] != want {
		t.Errorf("faults = %+v", faults)
	}

	rec = postForm(t, e, "/_emulator/faults/clear", nil)
	if rec.Code != http.StatusSeeOther || resolve(t, "/_emulator/faults/clear", rec.Header().Get("Location")) != "/_emulator/" {
		t.Fatalf("clear: %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if len(e.snapshot().Faults) != 0 {
		t.Error("faults not cleared")
	}
}

func TestControlFormRejectsBadInput(t *testing.T) {
	e := newTestEmulator(t, Options{})
	rec := postForm(t, e, "/_emulator/faults", url.Values{"count": {"two"}, "status": {"700"}, "body": {"xml"}, "code": {"123"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "count must be a number") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	doc, _ := goquery.NewDocumentFromReader(rec.Body)
	if doc.Find(`[role="alert"]`).Length() != 1 || doc.Find("#code").AttrOr("value", "") != "123" {
		t.Error("the page does not show the problem or keep the input")
	}
	rec = postForm(t, e, "/_emulator/faults", url.Values{"status": {"700"}, "body": {"xml"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "status must be") || !strings.Contains(rec.Body.String(), "unknown body kind") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(e.snapshot().Faults) != 0 {
		t.Error("a bad fault was queued")
	}
}

func TestControlJSON(t *testing.T) {
	e := newTestEmulator(t, Options{})
	post := func(body string) *httptest.ResponseRecorder {
		return serve(t, e, request{method: http.MethodPost, path: "/_emulator/faults", body: body})
	}
	rec := post(`{"count":3,"method":"put","status":503,"code":"800003","description":"down","retryAfterSeconds":2.5,"delayMs":100,"body":"html","reset":false}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	want := Fault{Count: 3, Method: "PUT", Status: 503, Code: "800003", Description: "down",
		RetryAfter: 2500 * time.Millisecond, Delay: 100 * time.Millisecond, Body: BodyHTML}
	if e.faults[0] != want {
		t.Errorf("fault = %+v", e.faults[0])
	}
	for _, bad := range []string{`{"status":"503"}`, `{"statuss":503}`, `{"body":"xml"}`, `{"method":"POST"}`, `{"count":-1}`, `nope`} {
		if rec := post(bad); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
	if rec := serve(t, e, request{path: "/_emulator/faults"}); !strings.Contains(rec.Body.String(), `"delayMs":100`) {
		t.Errorf("GET faults = %s", rec.Body)
	}
	if rec := serve(t, e, request{method: http.MethodDelete, path: "/_emulator/faults"}); rec.Code != http.StatusNoContent || len(e.snapshot().Faults) != 0 {
		t.Errorf("DELETE = %d, faults %v", rec.Code, e.snapshot().Faults)
	}
}

func TestControlStateAndReset(t *testing.T) {
	e := newTestEmulator(t, Options{})
	token := userToken(t, tenantA, adminOID)
	serve(t, e, request{method: http.MethodPut, token: token, body: camelBody})
	serve(t, e, request{token: userToken(t, tenantB, readerOID)})

	rec := serve(t, e, request{path: "/_emulator/state"})
	var state struct {
		Tenants []struct {
			TenantID string         `json:"tenantId"`
			Profile  map[string]any `json:"profile"`
			Stats    Stats          `json:"stats"`
		} `json:"tenants"`
		Roles  []roleSnapshot `json:"roles"`
		Faults []faultJSON    `json:"faults"`
		Stats  Stats          `json:"stats"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &state); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if len(state.Tenants) != 2 || state.Tenants[0].TenantID != tenantA || state.Tenants[0].Profile["email"] != "help@fabrikam.example" ||
		state.Tenants[0].Stats != (Stats{Puts: 1}) || state.Stats != (Stats{Gets: 1, Puts: 1}) || len(state.Roles) != 3 || state.Faults == nil {
		t.Errorf("state = %s", rec.Body)
	}

	rec = postForm(t, e, "/_emulator/reset", nil)
	if rec.Code != http.StatusSeeOther || resolve(t, "/_emulator/reset", rec.Header().Get("Location")) != "/_emulator/" {
		t.Fatalf("reset: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if email, _, _ := e.Profile(tenantA); email != seedProfile.Email {
		t.Errorf("after reset: %q", email)
	}
	if rec := serve(t, e, request{method: http.MethodPost, path: "/_emulator/reset", body: "{}"}); rec.Code != http.StatusNoContent {
		t.Errorf("JSON reset = %d", rec.Code)
	}
}

func TestControlRoutes(t *testing.T) {
	e := newTestEmulator(t, Options{})
	rec := serve(t, e, request{path: "/_emulator"})
	if rec.Code != http.StatusSeeOther || resolve(t, "/_emulator", rec.Header().Get("Location")) != "/_emulator/" {
		t.Errorf("/_emulator: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := serve(t, e, request{path: "/_emulator/nothing"}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown = %d", rec.Code)
	}
	// A form posted by another site is refused: the surface has no token.
	r := httptest.NewRequest(http.MethodPost, "/_emulator/reset", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site post = %d", rec.Code)
	}
	if got := e.Stats(); got != (Stats{}) {
		t.Errorf("control requests counted: %+v", got)
	}
}

func TestMountedUnderAPrefix(t *testing.T) {
	e := newTestEmulator(t, Options{})
	h := http.StripPrefix("/pcemu", e)
	r := httptest.NewRequest(http.MethodPost, "/pcemu/_emulator/faults", strings.NewReader("status=503"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if got := resolve(t, "/pcemu/_emulator/faults", rec.Header().Get("Location")); got != "/pcemu/_emulator/" {
		t.Errorf("redirect lands on %s", got)
	}
}
