package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPartnerCenterCallsByOperationAndStatus(t *testing.T) {
	m := New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	c := &http.Client{Transport: m.PartnerCenterTransport(http.DefaultTransport)}
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/v1/profiles/support"}, {http.MethodPut, "/v1/profiles/support"},
		{http.MethodPut, "/v1/profiles/support"}, {http.MethodGet, "/v1/customers?id=12345"},
		{http.MethodGet, "/v1/profiles/organization"},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if _, err := c.Get(dead.URL + "/v1/profiles/support"); err == nil {
		t.Fatal("a closed server answered")
	}

	page := scrape(t, m)
	for _, want := range []string{
		`pcsupport_partner_center_request_duration_seconds_count{operation="get_support_profile",status="200"} 1`,
		`pcsupport_partner_center_request_duration_seconds_count{operation="update_support_profile",status="503"} 2`,
		`pcsupport_partner_center_request_duration_seconds_count{operation="other",status="200"} 1`,
		`pcsupport_partner_center_request_duration_seconds_count{operation="get_support_profile",status="error"} 1`,
		`pcsupport_partner_center_request_duration_seconds_count{operation="get_organization_profile",status="200"} 1`,
	} {
		if !strings.Contains(page, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(page, "12345") {
		t.Error("a URL's query became a label")
	}
}

func TestRefreshesByOutcome(t *testing.T) {
	m := New()
	answers := []int{http.StatusOK, http.StatusBadRequest, http.StatusBadGateway, http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(answers[0])
		answers = answers[1:]
	}))
	defer srv.Close()
	c := &http.Client{Transport: m.TokenEndpointTransport(http.DefaultTransport)}
	for _, grant := range []string{"refresh_token", "refresh_token", "refresh_token", "authorization_code"} {
		resp, err := c.PostForm(srv.URL+"/token", url.Values{"grant_type": {grant}, "refresh_token": {"r"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// The request body still reaches the server whole after grant_type was read from a copy.
	var got url.Values
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = r.PostForm
	}))
	defer echo.Close()
	if resp, err := c.PostForm(echo.URL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"abc"}}); err == nil {
		resp.Body.Close()
	}
	if got.Get("refresh_token") != "abc" {
		t.Errorf("the token request arrived as %v", got)
	}

	page := scrape(t, m)
	for _, want := range []string{
		`pcsupport_token_refreshes_total{outcome="success"} 2`,
		`pcsupport_token_refreshes_total{outcome="refused"} 1`,
		`pcsupport_token_refreshes_total{outcome="error"} 1`,
	} {
		if !strings.Contains(page, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
}

func TestCountersAndRequests(t *testing.T) {
	m := New()
	page := scrape(t, m)
	for _, o := range []string{"success", "refused", "expired", "failed"} {
		if !strings.Contains(page, `pcsupport_sign_ins_total{outcome="`+o+`"} 0`) {
			t.Errorf("sign-in outcome %s is not shown before it happens", o)
		}
	}
	if !strings.Contains(page, `pcsupport_history_write_failures_total{write="save"} 0`) {
		t.Error("failed history writes are not shown before one happens")
	}
	m.SignIn(SignInSucceeded)
	m.HistoryWriteFailed(HistorySave)
	m.HistoryWriteFailed("anything else")
	m.Save("saved")
	m.Save("saved")
	m.Save("conflict")
	done := m.RequestStarted()
	m.ObserveRequest("/save", http.MethodPost, http.StatusSeeOther, 30*time.Millisecond)
	page = scrape(t, m)
	done()
	for _, want := range []string{
		`pcsupport_sign_ins_total{outcome="success"} 1`,
		`pcsupport_saves_total{outcome="saved"} 2`,
		`pcsupport_saves_total{outcome="conflict"} 1`,
		`pcsupport_history_write_failures_total{write="save"} 1`,
		`pcsupport_history_write_failures_total{write="observe"} 1`,
		`pcsupport_http_requests_in_flight 1`,
		`pcsupport_http_request_duration_seconds_count{method="POST",route="/save",status="303"} 1`,
		`pcsupport_http_request_duration_seconds_bucket{method="POST",route="/save",status="303",le="0.05"} 1`,
		`process_start_time_seconds`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("missing %s", want)
		}
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics: %d", rec.Code)
	}
	return rec.Body.String()
}
