package pcclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// sampleOrganization is shaped like the documented answer of GET /v1/profiles/organization.
const sampleOrganization = `{"id":"3b33e682-00c3-41ee-9dd2-a548adf56438","companyName":"Contoso Partner",` +
	`"defaultAddress":{"country":"us","region":"WA","city":"Redmond","addressLine1":"1 Microsoft Way","postalCode":"98052",` +
	`"firstName":"Ada","lastName":"Admin","phoneNumber":"4255550100"},"tenantId":"3b33e682-00c3-41ee-9dd2-a548adf56438",` +
	`"domain":"contoso-partner.onmicrosoft.com","email":"ada@contoso-partner.example","language":"en","culture":"en-US",` +
	`"profileType":"organization_profile","links":{"self":{"uri":"/profiles/organization","method":"GET","headers":[]}},` +
	`"attributes":{"etag":"-1","objectType":"OrganizationProfile"}}`

// The organization profile is read with the support profile's headers, on its own path under
// the same base URL, and gives the names people know the company by.
func TestGetOrganizationProfile(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "\uFEFF"+sampleOrganization) })
	c := newTestClient(t, srv.URL+"/prefix/", func(cfg *Config) { cfg.ApplicationName = "pcsupport-test" })
	o := opts()
	o.Locale, o.CorrelationID, o.RequestID = "fr-FR", "corr-1", "req-1"
	p, err := c.GetOrganizationProfile(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := OrganizationProfile{CompanyName: "Contoso Partner", Domain: "contoso-partner.onmicrosoft.com", Country: "US",
		Culture: "en-US", Language: "en"}
	if p != want {
		t.Errorf("profile %+v, want %+v", p, want)
	}
	reqs := rec.all()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/prefix/v1/profiles/organization" || len(reqs[0].Body) != 0 {
		t.Fatalf("requests %+v", reqs)
	}
	for k, v := range map[string]string{
		"Authorization": "Bearer " + testToken, "Accept": "application/json", "MS-RequestId": "req-1",
		"MS-CorrelationId": "corr-1", "MS-Contract-Version": "v1", "X-Locale": "fr-FR", "MS-PartnerCenter-Application": "pcsupport-test",
	} {
		if got := reqs[0].Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if logs := c.logs.String(); !strings.Contains(logs, `op="get organization profile"`) || !strings.Contains(logs, "path=/prefix/v1/profiles/organization") {
		t.Errorf("the log does not name the call:\n%s", logs)
	}
}

// Its failures are the one typed error, retried like the support profile's: a 5xx again with the
// same ids, a refusal not at all.
func TestGetOrganizationProfileFailures(t *testing.T) {
	srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, 200, `{"CompanyName":"Fabrikam Partner","Domain":"fabrikam.example","DefaultAddress":{"Country":"FR"}}`)
	})
	c := newTestClient(t, srv.URL, nil)
	p, err := c.GetOrganizationProfile(context.Background(), opts())
	if err != nil || p.CompanyName != "Fabrikam Partner" || p.Country != "FR" {
		t.Fatalf("after two 503s: %+v, %v", p, err)
	}
	reqs := rec.all()
	if len(reqs) != 3 || reqs[0].Header.Get("MS-RequestId") != reqs[2].Header.Get("MS-RequestId") {
		t.Errorf("%d requests; the retry's MS-RequestId differs", len(reqs))
	}

	for _, tt := range []struct {
		name   string
		status int
		body   string
		kind   Kind
		calls  int
	}{
		{"forbidden", 403, `{"code":"900150","description":"Forbidden.","data":[],"source":"PartnerFD"}`, KindForbidden, 1},
		{"token refused", 401, `{"code":"800001","description":"Token expired."}`, KindUnauthenticated, 1},
		{"MFA", 401, `{"code":"10001","description":"MFA required."}`, KindMFARequired, 1},
		{"down", 503, ``, KindUnavailable, 3},
		{"HTML", 200, `<html>gateway</html>`, KindBadResponse, 1},
		{"an array", 200, `[]`, KindBadResponse, 1},
		{"empty", 200, ``, KindBadResponse, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := serve(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, tt.status, tt.body) })
			c := newTestClient(t, srv.URL, nil)
			p, err := c.GetOrganizationProfile(context.Background(), opts())
			var pe *Error
			if !errors.As(err, &pe) || pe.Kind != tt.kind || pe.Op != opGetOrganization || p != (OrganizationProfile{}) {
				t.Fatalf("got %+v, %v; want a %s error", p, err, tt.kind)
			}
			if got := rec.count(); got != tt.calls {
				t.Errorf("%d requests, want %d", got, tt.calls)
			}
		})
	}
}

// What is kept of a profile is fit to be shown: a country only when it is a country code, text
// without control characters and of a bounded length.
func TestDecodeOrganizationProfile(t *testing.T) {
	for _, tt := range []struct {
		body string
		want OrganizationProfile
	}{
		{`{"companyName":"A\u0000B","defaultAddress":{"country":"usa"}}`, OrganizationProfile{CompanyName: "A B"}},
		{`{"companyName":null,"domain":7,"defaultAddress":{"country":"F1"}}`, OrganizationProfile{}},
		{`{"defaultAddress":null,"culture":"fr-FR"}`, OrganizationProfile{Culture: "fr-FR"}},
		{`{"companyName":"` + strings.Repeat("é", 300) + `"}`, OrganizationProfile{CompanyName: strings.Repeat("é", 256)}},
	} {
		got, err := decodeOrganizationProfile([]byte(tt.body))
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.body, got, err, tt.want)
		}
	}
}
