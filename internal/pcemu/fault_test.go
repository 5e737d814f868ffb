package pcemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFaultStatusAndCode(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		code  string
		desc  string
	}{
		{"503 default code", Fault{Status: 503}, "800003", "Try again later"},
		{"500 custom", Fault{Status: 500, Code: "800003", Description: "Boom."}, "800003", "Boom."},
		{"409", Fault{Status: 409}, "409", "changed"},
		{"403 role", Fault{Status: 403, Code: "2032"}, "2032", "role"},
		{"401 comes before the token check", Fault{Status: 401, Code: "10001"}, "10001", ""},
		{"404", Fault{Status: 404}, "1000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEmulator(t, Options{BOM: true})
			e.InjectFaults(tt.fault)
			// No token at all: faults answer whatever the token.
			rec := serve(t, e, request{method: http.MethodPut, body: camelBody})
			if !bytes.HasPrefix(rec.Body.Bytes(), []byte("\uFEFF")) {
				t.Error("no BOM on a fault's JSON body")
			}
			rec.Body = bytes.NewBuffer(bytes.TrimPrefix(rec.Body.Bytes(), []byte("\uFEFF")))
			b := wantError(t, rec, tt.fault.Status, tt.code)
			if !strings.Contains(b.Description, tt.desc) {
				t.Errorf("description = %q", b.Description)
			}
			if rec.Header().Get("MS-CorrelationId") == "" {
				t.Error("no MS-CorrelationId")
			}
			if got := e.Stats(); got != (Stats{Refused: 1}) {
				t.Errorf("stats = %+v", got)
			}
		})
	}
}

func TestFaultedPutDoesNotStore(t *testing.T) {
	for _, f := range []Fault{{Status: 502}, {Status: 200}, {Body: BodyTruncated}} {
		e := newTestEmulator(t, Options{})
		e.InjectFaults(f)
		rec := serve(t, e, request{method: http.MethodPut, token: userToken(t, tenantA, adminOID), body: camelBody})
		if rec.Code != max(f.Status, 200) {
			t.Errorf("%+v: status = %d", f, rec.Code)
		}
		if string(e.StoredJSON(tenantA)) != string(seedProfile.resourceJSON()) {
			t.Errorf("%+v: stored state changed", f)
		}
		if got := e.TenantStats(tenantA); got != (Stats{Refused: 1}) {
			t.Errorf("%+v: tenant stats = %+v", f, got)
		}
	}
}

func TestFault429(t *testing.T) {
	tests := []struct {
		retryAfter time.Duration
		header     string
	}{
		{57 * time.Second, "57"},
		{1500 * time.Millisecond, "2"},
		{0, "1"}, // a real 429 always says when
	}
	for _, tt := range tests {
		e := newTestEmulator(t, Options{})
		e.InjectFaults(Fault{Status: 429, RetryAfter: tt.retryAfter})
		rec := serve(t, e, request{token: userToken(t, tenantA, readerOID)})
		if rec.Code != 429 || rec.Header().Get("Retry-After") != tt.header {
			t.Fatalf("%v: %d, Retry-After %q", tt.retryAfter, rec.Code, rec.Header().Get("Retry-After"))
		}
		want := `{"statusCode":429,"message":"Rate limit is exceeded. Try again in ` + tt.header + ` seconds."}`
		if rec.Body.String() != want {
			t.Errorf("body = %s", rec.Body)
		}
	}
	// Retry-After also goes on other statuses when asked for.
	e := newTestEmulator(t, Options{})
	e.InjectFaults(Fault{Status: 503, RetryAfter: 10 * time.Second})
	if rec := serve(t, e, request{}); rec.Header().Get("Retry-After") != "10" {
		t.Errorf("503 Retry-After = %q", rec.Header().Get("Retry-After"))
	}
}

func TestFaultDelayOnly(t *testing.T) {
	e := newTestEmulator(t, Options{})
	var slept []time.Duration
	e.sleep = func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}
	e.InjectFaults(Fault{Delay: 250 * time.Millisecond})
	rec := serve(t, e, request{method: http.MethodPut, token: userToken(t, tenantA, adminOID), body: camelBody})
	if rec.Code != http.StatusOK || len(slept) != 1 || slept[0] != 250*time.Millisecond {
		t.Fatalf("status %d, slept %v", rec.Code, slept)
	}
	// A fault that only delays lets the request through, state change included.
	if email, _, _ := e.Profile(tenantA); email != "help@fabrikam.example" {
		t.Errorf("email = %q", email)
	}
	if got := e.Stats(); got != (Stats{Puts: 1}) {
		t.Errorf("stats = %+v", got)
	}
}

func TestFaultDelayBeforeStatus(t *testing.T) {
	e := newTestEmulator(t, Options{})
	var order []string
	e.sleep = func(ctx context.Context, d time.Duration) error {
		order = append(order, "sleep")
		return nil
	}
	e.InjectFaults(Fault{Delay: time.Second, Status: 504})
	rec := serve(t, e, request{})
	order = append(order, "answer")
	if rec.Code != 504 || strings.Join(order, ",") != "sleep,answer" {
		t.Fatalf("status %d, order %v", rec.Code, order)
	}
}

func TestFaultDelayIsCancellable(t *testing.T) {
	e := newTestEmulator(t, Options{})
	e.InjectFaults(Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(t, e, request{ctx: ctx, token: userToken(t, tenantA, readerOID)}) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a guard against a hang, not a measurement
		t.Fatal("the delay ignored the cancelled request")
	}
	if got := e.TenantStats(tenantA); got != (Stats{Refused: 1}) {
		t.Errorf("stats = %+v", got)
	}
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext = %v", err)
	}
}

func TestFaultBodies(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, rec *httptest.ResponseRecorder, normal []byte)
	}{
		{"empty", Fault{Status: 502, Body: BodyEmpty}, func(t *testing.T, rec *httptest.ResponseRecorder, _ []byte) {
			if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
				t.Errorf("body %q, type %q", rec.Body, rec.Header().Get("Content-Type"))
			}
		}},
		{"malformed", Fault{Status: 500, Body: BodyMalformed}, func(t *testing.T, rec *httptest.ResponseRecorder, _ []byte) {
			if json.Valid(rec.Body.Bytes()) || !strings.HasPrefix(rec.Body.String(), "{") || !strings.Contains(rec.Body.String(), "800003") {
				t.Errorf("body %s", rec.Body)
			}
		}},
		{"malformed 200", Fault{Body: BodyMalformed}, func(t *testing.T, rec *httptest.ResponseRecorder, _ []byte) {
			if rec.Code != 200 || json.Valid(rec.Body.Bytes()) || !strings.Contains(rec.Body.String(), "support@contoso-partner.example") {
				t.Errorf("%d %s", rec.Code, rec.Body)
			}
		}},
		{"truncated 200", Fault{Body: BodyTruncated}, func(t *testing.T, rec *httptest.ResponseRecorder, normal []byte) {
			body := rec.Body.Bytes()
			if rec.Code != 200 || json.Valid(body) || len(body) != len(normal)/2 || !bytes.HasPrefix(normal, body) {
				t.Errorf("%d %s", rec.Code, body)
			}
		}},
		{"truncated error", Fault{Status: 503, Body: BodyTruncated}, func(t *testing.T, rec *httptest.ResponseRecorder, _ []byte) {
			if json.Valid(rec.Body.Bytes()) || !strings.HasPrefix(rec.Body.String(), `{"code":`) {
				t.Errorf("body %s", rec.Body)
			}
		}},
		{"html", Fault{Status: 502, Body: BodyHTML}, func(t *testing.T, rec *httptest.ResponseRecorder, _ []byte) {
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), "<title>502 Bad Gateway</title>") {
				t.Errorf("type %q body %s", rec.Header().Get("Content-Type"), rec.Body)
			}
		}},
		{"oversized", Fault{Body: BodyOversized}, func(t *testing.T, rec *httptest.ResponseRecorder, _ []byte) {
			var v struct{ Email string }
			if rec.Body.Len() <= 2<<20 || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.Email == "" {
				t.Errorf("%d bytes, email %q", rec.Body.Len(), v.Email)
			}
			if rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %s for %d bytes", rec.Header().Get("Content-Length"), rec.Body.Len())
			}
		}},
		{"oversized error", Fault{Status: 500, Body: BodyOversized}, func(t *testing.T, rec *httptest.ResponseRecorder, _ []byte) {
			var v errorBody
			if rec.Body.Len() <= 2<<20 || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.Code != "800003" {
				t.Errorf("%d bytes, %+v", rec.Body.Len(), v.Code)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEmulator(t, Options{})
			e.InjectFaults(tt.fault)
			rec := serve(t, e, request{token: userToken(t, tenantA, readerOID)})
			if want := max(tt.fault.Status, 200); rec.Code != want {
				t.Errorf("status = %d, want %d", rec.Code, want)
			}
			tt.check(t, rec, e.StoredJSON(tenantA))
			if got := e.Stats(); got != (Stats{Refused: 1}) {
				t.Errorf("stats = %+v", got)
			}
		})
	}
}

func TestFaultReset(t *testing.T) {
	e := newTestEmulator(t, Options{})
	srv := httptest.NewServer(e)
	defer srv.Close()
	token := userToken(t, tenantA, readerOID)
	get := func() (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+supportPath, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return srv.Client().Do(req)
	}
	e.InjectFaults(Fault{Reset: true, Status: 200})
	if resp, err := get(); err == nil {
		resp.Body.Close()
		t.Fatalf("a reset answered %d", resp.StatusCode)
	}
	resp, err := get()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the reset: %d", resp.StatusCode)
	}
	if got := e.Stats(); got != (Stats{Gets: 1, Refused: 1}) {
		t.Errorf("stats = %+v", got)
	}
}

func TestFaultResetWithoutConnectionAborts(t *testing.T) {
	e := newTestEmulator(t, Options{})
	e.InjectFaults(Fault{Reset: true})
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	serve(t, e, request{})
}

func TestFaultMatching(t *testing.T) {
	e := newTestEmulator(t, Options{})
	e.InjectFaults(Fault{Method: "put", Status: 503, Count: 2})
	e.InjectFaults(Fault{Status: 500})
	token := userToken(t, tenantA, adminOID)
	steps := []struct {
		method string
		status int
	}{
		{http.MethodGet, 500}, // the PUT-only fault is skipped, the next one matches
		{http.MethodGet, 200},
		{http.MethodPut, 503},
		{http.MethodPut, 503},
		{http.MethodPut, 200},
	}
	for i, s := range steps {
		var body string
		if s.method == http.MethodPut {
			body = camelBody
		}
		if rec := serve(t, e, request{method: s.method, token: token, body: body}); rec.Code != s.status {
			t.Fatalf("step %d %s = %d, want %d", i+1, s.method, rec.Code, s.status)
		}
		// The control surface neither consumes faults nor counts.
		serve(t, e, request{path: "/_emulator/state"})
	}
	if got := e.Stats(); got != (Stats{Gets: 1, Puts: 1, Refused: 3}) {
		t.Errorf("stats = %+v", got)
	}

	e.InjectFaults(Fault{Status: 503, Count: 5})
	e.ClearFaults()
	if rec := serve(t, e, request{token: token}); rec.Code != 200 {
		t.Errorf("after ClearFaults: %d", rec.Code)
	}
}

func TestParseBodyKind(t *testing.T) {
	for i, name := range bodyKindNames {
		k, err := ParseBodyKind(strings.ToUpper(name))
		if err != nil || k != BodyKind(i) || k.String() != name {
			t.Errorf("%s: %v %v", name, k, err)
		}
	}
	if k, err := ParseBodyKind(""); err != nil || k != BodyNormal {
		t.Errorf("empty: %v %v", k, err)
	}
	if _, err := ParseBodyKind("xml"); err == nil {
		t.Error("xml accepted")
	}
}
