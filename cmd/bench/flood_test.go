package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The outsider sends each kind of request as the issue says, and every 5xx is counted: against
// a server that checks the CSRF token and the sizes, and fails on made-up methods.
func TestFloodCountsEveryKindAndEveryServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/auth/signed-out":
			http.SetCookie(w, &http.Cookie{Name: "pcs_csrf", Value: "token-1"})
		case r.Method == http.MethodGet && r.URL.Path == "/auth/signin" && len(r.URL.Query().Get("next")) > 30_000:
			w.WriteHeader(http.StatusFound)
		case r.Method == http.MethodGet && r.URL.Path == "/":
			w.WriteHeader(http.StatusSeeOther)
		case r.Method == http.MethodPost && r.URL.Path == "/save":
			c, err := r.Cookie("pcs_csrf")
			if err != nil || c.Value != r.PostFormValue("_csrf") || len(r.PostFormValue("website")) != floodFieldSize {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			w.WriteHeader(http.StatusSeeOther)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	o := newOutsider(srv.URL + "/")
	ctx := context.Background()
	if err := o.takeCSRF(ctx); err != nil {
		t.Fatal(err)
	}
	var r floodResult
	o.send(ctx, 110, &r)
	if r.requests != 110 || r.madeUp != 10 || r.serverErrors != 10 || r.noAnswer != 0 || !strings.Contains(r.firstFailure, "answered 500") {
		t.Errorf("counted %+v", r)
	}
	for kind, status := range map[string]int{kindSignIn: http.StatusFound, kindPage: http.StatusSeeOther, kindSave: http.StatusSeeOther} {
		if n := r.answers[kind][status]; n != 100/3 && n != 100/3+1 {
			t.Errorf("%s: answers %v, want about 33 × %d", kind, r.answers[kind], status)
		}
	}
}

// A flood that grew the data directory fails the bench in a short run without --strict, while
// speed targets missed there are printed only.
func TestFloodFailsTheBenchInEveryMode(t *testing.T) {
	clean := floodResult{requests: 1650, dataBefore: 65_000, dataAfter: 65_000, metricsBefore: 18_000, metricsAft: 19_500,
		hwm: 35_000_000, sampledPeak: 35_100_000}
	leaky := clean
	leaky.dataAfter += 1650 * 200 // a small file per request
	for _, c := range []struct {
		flood floodResult
		want  int
	}{{clean, 0}, {leaky, exitUnsafe}} {
		rep := &report{opts: options{short: true, levels: []int{1}}, runs: []*runResult{{flood: &c.flood}}}
		if code, err := finish(rep, io.Discard, io.Discard); code != c.want || err != nil {
			t.Errorf("data directory %+d B: exit %d (%v), want %d", c.flood.dataAfter-c.flood.dataBefore, code, err, c.want)
		}
	}
	if misses := (&report{opts: options{short: true, levels: []int{1}}, runs: []*runResult{{flood: &clean}}}).misses(); misses == 0 {
		t.Error("no target missed in the report of a run that measured nothing: the exit code above proves nothing")
	}
}
