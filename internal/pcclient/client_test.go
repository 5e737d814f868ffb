package pcclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"pcsupport/internal/support"
)

// TestErrorTable covers every row of the error table in PARTNER-CENTER.md, plus the statuses
// around it.
func TestErrorTable(t *testing.T) {
	type row struct {
		name       string
		status     int
		header     map[string]string
		body       string
		kind       Kind
		code       string
		desc       string
		retryAfter time.Duration
		requests   int
		field      string
	}
	rows := []row{
		{name: "400/3000 invalid property", status: 400,
			body: `{"code":"3000","description":"The property 'Email' is invalid.","data":[],"source":"PartnerFD"}`,
			kind: KindInvalidInput, code: "3000", desc: "The property 'Email' is invalid.", requests: 1, field: "email"},
		{name: "400/800002 invalid input, numeric code", status: 400,
			body: `{"code":800002,"description":"Invalid request input: Telephone is required.","data":[],"source":"PartnerFD"}`,
			kind: KindInvalidInput, code: "800002", desc: "Invalid request input: Telephone is required.", requests: 1, field: "telephone"},
		{name: "401/400 access denied", status: 401,
			body: `{"code":"400","description":"Access denied.","data":[],"source":"PartnerFD"}`,
			kind: KindUnauthenticated, code: "400", desc: "Access denied.", requests: 1},
		{name: "401/800001 token missing", status: 401,
			body: `{"code":"800001","description":"Authorization token is missing.","data":[],"source":"PartnerFD"}`,
			kind: KindUnauthenticated, code: "800001", desc: "Authorization token is missing.", requests: 1},
		{name: "401 no body", status: 401, kind: KindUnauthenticated, requests: 1},
		{name: "401/10001 MFA required", status: 401,
			body: `{"code":"10001","description":"MFA required.","data":[],"source":"PartnerFD"}`,
			kind: KindMFARequired, code: "10001", desc: "MFA required.", requests: 1},
		{name: "401/900421 MFA claim missing", status: 401,
			body: `{"code":900421,"description":"The MFA claim is missing.","data":[],"source":"PartnerFD"}`,
			kind: KindMFARequired, code: "900421", desc: "The MFA claim is missing.", requests: 1},
		{name: "401/900420 wrong audience", status: 401,
			body: `{"code":"900420","description":"Invalid audience.","data":[],"source":"PartnerFD"}`,
			kind: KindWrongAudience, code: "900420", desc: "Invalid audience.", requests: 1},
		{name: "403/900150 role", status: 403,
			body: `{"code":"900150","description":"The user is not authorized.","data":[],"source":"PartnerFD"}`,
			kind: KindForbidden, code: "900150", desc: "The user is not authorized.", requests: 1},
		{name: "403/2032 role", status: 403,
			body: `{"code":"2032","description":"Permission denied.","data":[],"source":"PartnerFD"}`,
			kind: KindForbidden, code: "2032", desc: "Permission denied.", requests: 1},
		{name: "404/1000 not found", status: 404,
			body: `{"code":"1000","description":"Support profile not found.","data":[],"source":"PartnerFD"}`,
			kind: KindNotFound, code: "1000", desc: "Support profile not found.", requests: 1},
		{name: "409 conflict", status: 409,
			body: `{"code":"409","description":"Conflict.","data":[],"source":"PartnerFD"}`,
			kind: KindConflict, code: "409", desc: "Conflict.", requests: 1},
		{name: "412 precondition", status: 412, kind: KindConflict, requests: 1},
		{name: "417 not retried", status: 417, kind: KindUnknown, requests: 1},
		{name: "429 with Retry-After header", status: 429, header: map[string]string{"Retry-After": "120"},
			body: `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 120 seconds."}`,
			kind: KindThrottled, desc: "Rate limit is exceeded. Try again in 120 seconds.", retryAfter: 120 * time.Second, requests: 1},
		{name: "429 with message only", status: 429,
			body: `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 57 seconds."}`,
			kind: KindThrottled, desc: "Rate limit is exceeded. Try again in 57 seconds.", retryAfter: 57 * time.Second, requests: 1},
		{name: "429 header wins over message", status: 429, header: map[string]string{"Retry-After": "30"},
			body: `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 57 seconds."}`,
			kind: KindThrottled, desc: "Rate limit is exceeded. Try again in 57 seconds.", retryAfter: 30 * time.Second, requests: 1},
		{name: "429 without hint", status: 429, body: `{"statusCode":429,"message":"Rate limit is exceeded."}`,
			kind: KindThrottled, desc: "Rate limit is exceeded.", requests: 1},
		{name: "500/800003 retried", status: 500,
			body: `{"code":"800003","description":"Internal server error.","data":[],"source":"PartnerFD"}`,
			kind: KindUnavailable, code: "800003", desc: "Internal server error.", requests: 3},
		{name: "502 HTML gateway page", status: 502, header: map[string]string{"Content-Type": "text/html"},
			body: "<html><body><h1>502 Bad Gateway</h1></body></html>", kind: KindUnavailable, requests: 3},
		{name: "503 empty", status: 503, kind: KindUnavailable, requests: 3},
		{name: "504 truncated JSON", status: 504, body: `{"code":"504","descr`, kind: KindUnavailable, requests: 3},
		{name: "408", status: 408, kind: KindUnavailable, requests: 3},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("MS-CorrelationId", "corr-from-server")
				w.Header().Set("MS-RequestId", "req-from-server")
				w.Header().Set("MS-CV", "cv.1")
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			c := newTestClient(t, srv.URL, nil)
			_, err := c.GetSupportProfile(context.Background(), opts())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Op != opGet || e.Status != tc.status || e.Kind != tc.kind || e.Code != tc.code ||
				e.Description != tc.desc || e.RetryAfter != tc.retryAfter {
				t.Errorf("got op %q status %d kind %v code %q desc %q retryAfter %v\nwant status %d kind %v code %q desc %q retryAfter %v",
					e.Op, e.Status, e.Kind, e.Code, e.Description, e.RetryAfter, tc.status, tc.kind, tc.code, tc.desc, tc.retryAfter)
			}
			if e.CorrelationID != "corr-from-server" || e.RequestID != "req-from-server" {
				t.Errorf("ids = %q, %q; want the response's", e.CorrelationID, e.RequestID)
			}
			if got := rec.count(); got != tc.requests {
				t.Errorf("server saw %d requests, want %d", got, tc.requests)
			}
			if got := e.Field(); got != tc.field {
				t.Errorf("Field() = %q, want %q", got, tc.field)
			}
			if KindOf(fmt.Errorf("wrapped: %w", err)) != tc.kind {
				t.Errorf("KindOf(wrapped) = %v, want %v", KindOf(err), tc.kind)
			}
			if strings.Contains(err.Error(), "<") {
				t.Errorf("error text carries markup: %q", err.Error())
			}
		})
	}
}

func TestErrorIDsFallBackToSent(t *testing.T) {
	srv, _ := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	c := newTestClient(t, srv.URL, nil)
	o := opts()
	o.CorrelationID, o.RequestID = "my-corr", "my-req"
	_, err := c.GetSupportProfile(context.Background(), o)
	var e *Error
	if !errors.As(err, &e) || e.CorrelationID != "my-corr" || e.RequestID != "my-req" || e.Kind != KindNotFound {
		t.Fatalf("err = %#v", err)
	}
}

func TestHeaders(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, sampleProfile) })
	base := srv.URL + "/prefix/"
	c := newTestClient(t, base, func(cfg *Config) { cfg.ApplicationName = "pcsupport-test" })
	bare := newTestClient(t, srv.URL, nil)

	ctx := context.Background()
	o := opts()
	o.Locale, o.CorrelationID, o.RequestID = "fr-FR", "corr-1", "req-1"
	if _, err := c.GetSupportProfile(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateSupportProfile(ctx, o, NewProfile(support.Contact{Email: "a@b.example", Telephone: "1", Website: "w.example"})); err != nil {
		t.Fatal(err)
	}
	if _, err := bare.GetSupportProfile(ctx, opts()); err != nil {
		t.Fatal(err)
	}

	if logs := c.logs.String(); !strings.Contains(logs, "path=/prefix/v1/profiles/support") {
		t.Errorf("log lacks the real path:\n%s", logs)
	}
	reqs := rec.all()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}
	for i, want := range []struct{ method, path string }{
		{"GET", "/prefix/v1/profiles/support"},
		{"PUT", "/prefix/v1/profiles/support"},
		{"GET", "/v1/profiles/support"},
	} {
		if reqs[i].Method != want.method || reqs[i].Path != want.path {
			t.Errorf("request %d: %s %s, want %s %s", i, reqs[i].Method, reqs[i].Path, want.method, want.path)
		}
	}
	common := map[string]string{
		"Authorization":                "Bearer " + testToken,
		"Accept":                       "application/json",
		"Ms-Requestid":                 "req-1",
		"Ms-Correlationid":             "corr-1",
		"Ms-Contract-Version":          "v1",
		"X-Locale":                     "fr-FR",
		"Ms-Partnercenter-Application": "pcsupport-test",
	}
	for i, r := range reqs[:2] {
		for k, v := range common {
			if got := r.Header.Get(k); got != v {
				t.Errorf("request %d header %s = %q, want %q", i, k, got, v)
			}
		}
	}
	if got := reqs[0].Header.Get("Content-Type"); got != "" {
		t.Errorf("GET Content-Type = %q, want none", got)
	}
	if got := reqs[1].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("PUT Content-Type = %q", got)
	}

	// Without a locale, application name or given ids: no X-Locale, no application header,
	// generated GUIDs.
	r := reqs[2].Header
	for _, k := range []string{"X-Locale", "MS-PartnerCenter-Application"} {
		if _, ok := r[http.CanonicalHeaderKey(k)]; ok {
			t.Errorf("header %s sent although not set", k)
		}
	}
	for _, k := range []string{"MS-RequestId", "MS-CorrelationId"} {
		if v := r.Get(k); len(v) != 36 || strings.Count(v, "-") != 4 {
			t.Errorf("generated %s = %q, want a GUID", k, v)
		}
	}
	if r.Get("MS-RequestId") == r.Get("MS-CorrelationId") {
		t.Error("generated request and correlation ids are equal")
	}
	if r.Get("Authorization") != "Bearer "+testToken || r.Get("MS-Contract-Version") != "v1" || r.Get("Accept") != "application/json" {
		t.Errorf("bare request headers: %v", r)
	}
}

func TestRetryKeepsIDsAndNewCallGetsNew(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			w.WriteHeader(503)
			return
		}
		writeJSON(w, 200, sampleProfile)
	})
	c := newTestClient(t, srv.URL, nil)
	p, err := c.GetSupportProfile(context.Background(), opts())
	if err != nil {
		t.Fatal(err)
	}
	if p.Email != "email@sample.com" {
		t.Errorf("Email = %q", p.Email)
	}
	if _, err := c.GetSupportProfile(context.Background(), opts()); err != nil {
		t.Fatal(err)
	}
	reqs := rec.all()
	if len(reqs) != 4 {
		t.Fatalf("server saw %d requests, want 4", len(reqs))
	}
	for _, k := range []string{"MS-RequestId", "MS-CorrelationId"} {
		first := reqs[0].Header.Get(k)
		for i := 1; i < 3; i++ {
			if got := reqs[i].Header.Get(k); got != first {
				t.Errorf("retry %d %s = %q, want %q", i, k, got, first)
			}
		}
		if reqs[3].Header.Get(k) == first {
			t.Errorf("a new call reused %s %q", k, first)
		}
	}
	if got, want := c.waits.all(), []time.Duration{time.Millisecond, 2 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestPutRetriedWithSameBodyAndRequestID(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(502)
			return
		}
		writeJSON(w, 200, `{"email":"new@x.example","telephone":"1","website":"w","profileType":"support_profile"}`)
	})
	c := newTestClient(t, srv.URL, nil)
	in := NewProfile(support.Contact{Email: "new@x.example", Telephone: "1", Website: "w"})
	got, err := c.UpdateSupportProfile(context.Background(), opts(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "new@x.example" {
		t.Errorf("stored Email = %q", got.Email)
	}
	reqs := rec.all()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(reqs))
	}
	if !bytes.Equal(reqs[0].Body, reqs[1].Body) || len(reqs[0].Body) == 0 {
		t.Errorf("bodies differ or empty: %q vs %q", reqs[0].Body, reqs[1].Body)
	}
	if reqs[0].Header.Get("MS-RequestId") != reqs[1].Header.Get("MS-RequestId") {
		t.Error("PUT retry changed MS-RequestId")
	}
}

func TestTokenCalledPerAttempt(t *testing.T) {
	var calls atomic.Int32
	ts := tokenFunc(func() (*oauth2.Token, error) {
		n := calls.Add(1)
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n)}, nil
	})
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(500)
			return
		}
		writeJSON(w, 200, sampleProfile)
	})
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetSupportProfile(context.Background(), CallOptions{Token: ts}); err != nil {
		t.Fatal(err)
	}
	reqs := rec.all()
	if calls.Load() != 2 || reqs[0].Header.Get("Authorization") != "Bearer tok-1" || reqs[1].Header.Get("Authorization") != "Bearer tok-2" {
		t.Errorf("token calls %d, auth headers %q %q", calls.Load(), reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"))
	}
}

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

func TestTokenErrorPassesThrough(t *testing.T) {
	errSignIn := errors.New("sign in again")
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, sampleProfile) })
	c := newTestClient(t, srv.URL, nil)
	o := CallOptions{Token: tokenFunc(func() (*oauth2.Token, error) { return nil, fmt.Errorf("refresh: %w", errSignIn) })}
	_, err := c.GetSupportProfile(context.Background(), o)
	if !errors.Is(err, errSignIn) {
		t.Fatalf("err = %v, want it to wrap the token source's error", err)
	}
	var e *Error
	if errors.As(err, &e) || KindOf(err) != KindUnknown {
		t.Errorf("token error became an *Error: %v", err)
	}
	if !strings.HasPrefix(err.Error(), opGet+": ") {
		t.Errorf("err = %q, want the operation as context", err)
	}
	_, err = c.UpdateSupportProfile(context.Background(), o, NewProfile(support.Contact{Email: "", Telephone: "", Website: ""}))
	if !errors.Is(err, errSignIn) {
		t.Errorf("PUT err = %v", err)
	}
	if n := rec.count(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}

	empty := CallOptions{Token: tokenFunc(func() (*oauth2.Token, error) { return &oauth2.Token{}, nil })}
	if _, err := c.GetSupportProfile(context.Background(), empty); err == nil {
		t.Error("empty access token accepted")
	}
	badChars := CallOptions{Token: staticToken("abc\r\ndef")}
	if _, err := c.GetSupportProfile(context.Background(), badChars); err == nil || KindOf(err) != KindUnknown || strings.Contains(err.Error(), "abc") {
		t.Errorf("access token with a line break: %v", err)
	}
	if _, err := c.GetSupportProfile(context.Background(), CallOptions{}); err == nil {
		t.Error("nil token source accepted")
	}
}

func TestBadCallOptions(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, sampleProfile) })
	c := newTestClient(t, srv.URL, nil)
	for _, o := range []CallOptions{
		{Token: staticToken("t"), Locale: "fr-FR\r\nX-Evil: 1"},
		{Token: staticToken("t"), CorrelationID: "a\nb"},
		{Token: staticToken("t"), RequestID: "é"},
	} {
		if _, err := c.GetSupportProfile(context.Background(), o); err == nil || KindOf(err) != KindUnknown {
			t.Errorf("%+v: err = %v, want a plain error", o, err)
		}
	}
	if rec.count() != 0 {
		t.Errorf("server saw %d requests", rec.count())
	}
}

// TestRoundTripKeepsUnknownMembers is the reason Profile keeps raw members: a PUT replaces the
// whole resource, so whatever the app does not edit must go back as it came.
func TestRoundTripKeepsUnknownMembers(t *testing.T) {
	const stored = `{"email":"old@sample.com","telephone":"4255555555","website":"www.microsoft.com",
 "profileType":"support_profile",
 "links":{"self":{"uri":"/v1/profiles/support","method":"GET","headers":[]}},
 "attributes":{"objectType":"PartnerSupportProfile","etag":"W/\"abc==\"","version":3},
 "someFutureField":{"nested":[1,2.50,"three",null,true],"html":"<b>&amp;</b>"}}`
	var rec *recorder
	var srv *httptest.Server
	srv, rec = serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			writeJSON(w, 200, stored)
			return
		}
		// Partner Center answers with the stored profile: echo what was sent.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		_, _ = w.Write(rec.all()[n-1].Body)
	})
	c := newTestClient(t, srv.URL, nil)
	p, err := c.GetSupportProfile(context.Background(), opts())
	if err != nil {
		t.Fatal(err)
	}
	edited := p.WithContact(support.Contact{Email: "new@sample.com", Telephone: "+33 1 23 45 67 89", Website: "https://www.example.com/?a=1&b=2"})
	got, err := c.UpdateSupportProfile(context.Background(), opts(), edited)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "new@sample.com" || got.Website != "https://www.example.com/?a=1&b=2" {
		t.Errorf("stored profile = %+v", got)
	}
	if p.Email != "old@sample.com" {
		t.Errorf("WithContacts changed the original: %q", p.Email)
	}

	body := rec.all()[1].Body
	var sent, orig map[string]json.RawMessage
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatalf("PUT body %s: %v", body, err)
	}
	if err := json.Unmarshal([]byte(stored), &orig); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"profileType", "links", "attributes", "someFutureField"} {
		if compact(t, sent[k]) != compact(t, orig[k]) {
			t.Errorf("%s: sent %s, fetched %s", k, sent[k], orig[k])
		}
	}
	for k, want := range map[string]string{"email": `"new@sample.com"`, "telephone": `"+33 1 23 45 67 89"`, "website": `"https://www.example.com/?a=1&b=2"`} {
		if string(sent[k]) != want {
			t.Errorf("%s = %s, want %s", k, sent[k], want)
		}
	}
	if len(sent) != len(orig) {
		t.Errorf("sent %d members, fetched %d", len(sent), len(orig))
	}
	// The order of the kept members is kept too.
	if i, j := bytes.Index(body, []byte(`"links"`)), bytes.Index(body, []byte(`"someFutureField"`)); i < 0 || j < i {
		t.Errorf("member order changed: %s", body)
	}
	if raw, ok := got.Extra("attributes"); !ok || !strings.Contains(string(raw), `"etag":"W/\"abc==\""`) {
		t.Errorf("stored attributes = %s", raw)
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("compact %s: %v", raw, err)
	}
	return b.String()
}

func TestLogsEveryAttemptWithoutToken(t *testing.T) {
	srv, _ := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("MS-CorrelationId", "corr-x")
		w.Header().Set("MS-RequestId", "req-x")
		w.Header().Set("MS-CV", "cv-x.1")
		switch n {
		case 1:
			writeJSON(w, 503, `{"code":"800003","description":"busy"}`)
		case 2:
			writeJSON(w, 200, sampleProfile)
		default:
			writeJSON(w, 401, `{"code":"800001","description":"Token `+testToken+` rejected"}`)
		}
	})
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetSupportProfile(context.Background(), opts()); err != nil {
		t.Fatal(err)
	}
	_, _ = c.GetSupportProfile(context.Background(), opts())
	logs := c.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", len(lines), logs)
	}
	for _, want := range []string{"method=GET", "path=/v1/profiles/support", "status=503", "code=800003",
		"correlation_id=corr-x", "request_id=req-x", "duration=", "attempt=1", "kind=unavailable", "ms_cv=cv-x.1"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first line lacks %q: %s", want, lines[0])
		}
	}
	// Success is routine: debug. Failures stay at warn, where info-level logs keep them.
	if !strings.Contains(lines[1], "status=200") || !strings.Contains(lines[1], "attempt=2") || !strings.Contains(lines[1], "level=DEBUG") {
		t.Errorf("second line: %s", lines[1])
	}
	if !strings.Contains(lines[2], "status=401") || !strings.Contains(lines[2], "level=WARN") {
		t.Errorf("third line: %s", lines[2])
	}
	// The server's description may echo anything; the Authorization header itself never shows.
	if strings.Contains(logs, "Bearer") || strings.Contains(logs, "Authorization") {
		t.Errorf("log mentions the authorization header:\n%s", logs)
	}
}

func TestLogsNeverCarryTokenFromRequest(t *testing.T) {
	srv, _ := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { resetConn(t, w) })
	c := newTestClient(t, srv.URL, nil)
	_, err := c.GetSupportProfile(context.Background(), opts())
	if strings.Contains(c.logs.String(), testToken) || strings.Contains(err.Error(), testToken) {
		t.Errorf("token leaked:\n%s\n%v", c.logs.String(), err)
	}
}

func TestNew(t *testing.T) {
	for _, base := range []string{
		"", "api.partnercenter.microsoft.com", "localhost:8080", "ftp://x.example", "https://",
		"https://user:pw@x.example", "https://x.example/v1", "https://x.example/v1/", "https://x.example?a=b",
		"https://x.example#f", "://bad",
	} {
		if _, err := New(Config{BaseURL: base}); err == nil {
			t.Errorf("New(%q) accepted", base)
		}
	}
	for _, cfg := range []Config{
		{BaseURL: "https://x.example", Timeout: -1},
		{BaseURL: "https://x.example", MaxAttempts: -1},
		{BaseURL: "https://x.example", MaxResponseBytes: -1},
		{BaseURL: "https://x.example", ApplicationName: "a\nb"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	for base, want := range map[string]string{
		"https://api.partnercenter.microsoft.com":             "https://api.partnercenter.microsoft.com/v1/profiles/support",
		"https://api.partnercenter.microsoft.com/":            "https://api.partnercenter.microsoft.com/v1/profiles/support",
		"HTTP://127.0.0.1:8080/pcemu//":                       "http://127.0.0.1:8080/pcemu/v1/profiles/support",
		"https://partner.partnercenterapi.microsoftonline.cn": "https://partner.partnercenterapi.microsoftonline.cn/v1/profiles/support",
	} {
		c, err := New(Config{BaseURL: base})
		if err != nil {
			t.Errorf("New(%q): %v", base, err)
			continue
		}
		if c.endpoint.url != want {
			t.Errorf("New(%q) endpoint %q, want %q", base, c.endpoint.url, want)
		}
		if c.timeout != 30*time.Second || c.maxBytes != 1<<20 || c.maxAttempts != 3 ||
			c.maxRetryAfterWait != 5*time.Second || c.http == nil || c.log == nil || c.backoff == nil {
			t.Errorf("defaults not applied: %+v", c)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{
		1: 500 * time.Millisecond, 2: 1500 * time.Millisecond, 3: 3500 * time.Millisecond, 0: 500 * time.Millisecond,
	} {
		if got := defaultBackoff(n); got != want {
			t.Errorf("defaultBackoff(%d) = %v, want %v", n, got, want)
		}
	}
	if defaultBackoff(1000) <= 0 {
		t.Error("defaultBackoff overflows")
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID(), NewID()
	if a == b || len(a) != 36 {
		t.Errorf("NewID() = %q, %q", a, b)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUpdateAcceptsAnEmptySuccess(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusNoContent} {
		srv, _ := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
		c := newTestClient(t, srv.URL, nil)
		sent := NewProfile(support.Contact{Email: "a@b.example", Telephone: "4255550100", Website: "www.b.example"})
		got, err := c.UpdateSupportProfile(context.Background(), CallOptions{Token: staticToken(testToken)}, sent)
		if err != nil || got.Telephone != "4255550100" {
			t.Errorf("PUT answered %d with no body: %+v, %v", status, got, err)
		}
	}
}
