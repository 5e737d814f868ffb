package pcemu

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The organization profile answers each tenant with its own company, checks the token as the
// support profile does, and is counted apart from the support profile.
func TestOrganizationProfile(t *testing.T) {
	e := newTestEmulator(t, Options{})
	fabrikam := Organization{CompanyName: "Fabrikam Partner", Domain: "fabrikam-partner.example", Country: "FR",
		City: "Paris", Culture: "fr-FR", Language: "fr", Email: "admin@fabrikam-partner.example"}
	e.SetOrganization(tenantB, fabrikam)

	for _, tt := range []struct {
		tenant               string
		company, domain, cty string
	}{
		{tenantA, seedOrganization.CompanyName, seedOrganization.Domain, "US"},
		{tenantB, "Fabrikam Partner", "fabrikam-partner.example", "FR"},
	} {
		rec := serve(t, e, request{path: organizationPath, token: userToken(t, tt.tenant, readerOID)})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.tenant, rec.Code, rec.Body)
		}
		var got struct {
			CompanyName, Domain, TenantID, ProfileType string
			DefaultAddress                             struct{ Country string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.CompanyName != tt.company || got.Domain != tt.domain || got.DefaultAddress.Country != tt.cty ||
			got.TenantID != tt.tenant || got.ProfileType != "organization_profile" {
			t.Errorf("%s: %s", tt.tenant, rec.Body)
		}
	}
	if got := e.Stats(); got != (Stats{OrganizationGets: 2}) {
		t.Errorf("stats %+v: the organization's GETs are not counted apart", got)
	}

	// Refused like the support profile: no token, no MFA, an app-only token, a write.
	noMFA := mint(t, with(userClaims(tenantA, readerOID), map[string]any{"amr": []string{"pwd"}}))
	appOnly := mint(t, with(userClaims(tenantA, readerOID), map[string]any{"idtyp": "app", "scp": nil}))
	for _, rq := range []struct {
		request
		status int
		code   string
	}{
		{request{path: organizationPath}, 401, "800001"},
		{request{path: organizationPath, token: noMFA}, 401, "10001"},
		{request{path: organizationPath, token: appOnly}, 401, "400"},
		{request{path: organizationPath, method: http.MethodPut, token: userToken(t, tenantA, adminOID), body: `{}`}, 405, "405"},
	} {
		wantError(t, serve(t, e, rq.request), rq.status, rq.code)
	}
	if got := e.TenantStats(tenantA); got != (Stats{OrganizationGets: 1, OrganizationRefused: 3}) {
		t.Errorf("tenant stats %+v", got)
	}
}

// A fault is meant for one profile: those queued for the support profile (as every fault was
// before) never land on the organization profile, and the other way round.
func TestFaultsAreMeantForOneProfile(t *testing.T) {
	e := newTestEmulator(t, Options{})
	token := userToken(t, tenantA, readerOID)
	e.InjectFaults(Fault{Method: http.MethodGet, Status: 503})
	if rec := serve(t, e, request{path: organizationPath, token: token}); rec.Code != http.StatusOK {
		t.Fatalf("the organization took the support profile's fault: %d", rec.Code)
	}
	wantError(t, serve(t, e, request{token: token}), 503, "800003")

	e.InjectFaults(Fault{Resource: ResourceOrganization, Status: 200, Body: BodyMalformed})
	if rec := serve(t, e, request{token: token}); rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("the support profile took the organization's fault: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, e, request{path: organizationPath, token: token}); json.Valid(rec.Body.Bytes()) ||
		!strings.Contains(rec.Body.String(), seedOrganization.CompanyName) {
		t.Errorf("the organization's fault was not served: %s", rec.Body)
	}
	if got := e.Stats(); got != (Stats{Gets: 1, Refused: 1, OrganizationGets: 1, OrganizationRefused: 1}) {
		t.Errorf("stats %+v", got)
	}
	// The control surface takes the resource too.
	rec := serve(t, e, request{method: http.MethodPost, path: "/_emulator/faults", body: `{"resource":"organization","status":500}`})
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"resource":"organization"`) {
		t.Errorf("queue an organization fault: %d %s", rec.Code, rec.Body)
	}
	rec = serve(t, e, request{method: http.MethodPost, path: "/_emulator/faults", body: `{"resource":"billing","status":500}`})
	if rec.Code != http.StatusBadRequest {
		t.Errorf("an unknown resource was accepted: %d", rec.Code)
	}
}

// Given a file, the emulator keeps its stored profiles there: a new emulator on the same file
// (a restart) answers what was stored, not the seeds; a reset is kept too.
func TestProfilesSurviveARestartWithAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "emulator-profiles.json")
	start := func() *Emulator {
		e := newTestEmulator(t, Options{})
		e.SeedProfile(tenantB, "help@fabrikam.example", "+33 1 23 45 67 89", "www.fabrikam.example")
		if err := e.KeepProfilesIn(file); err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := start()
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a file was written before anything changed: %v", err)
	}
	rec := serve(t, e, request{method: http.MethodPut, token: userToken(t, tenantA, adminOID), body: camelBody})
	if rec.Code != http.StatusOK {
		t.Fatal(rec.Code, rec.Body)
	}
	e.SetProfile(tenantB, "desk@fabrikam.example", "+33 1 98 76 54 32", "www.fabrikam.example")

	e = start()
	if email, tel, _ := e.Profile(tenantA); email != "help@fabrikam.example" || tel != "(425) 555-0100" {
		t.Errorf("after a restart tenant A has %q %q", email, tel)
	}
	if email, _, _ := e.Profile(tenantB); email != "desk@fabrikam.example" {
		t.Errorf("after a restart tenant B has %q: the seed won over the file", email)
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("the data directory holds %d files, want the profiles file alone", len(entries))
	}

	rec = serve(t, e, request{method: http.MethodPost, path: "/_emulator/reset", header: map[string]string{"Content-Type": "application/json"}})
	if rec.Code != http.StatusNoContent {
		t.Fatal(rec.Code)
	}
	e = start()
	if email, _, _ := e.Profile(tenantA); email != seedProfile.Email {
		t.Errorf("a reset was not kept: %q", email)
	}

	// Without a file nothing is kept; a damaged file is refused, not overwritten.
	if email, _, _ := newTestEmulator(t, Options{}).Profile(tenantA); email != seedProfile.Email {
		t.Errorf("an emulator without a file starts from %q", email)
	}
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := newTestEmulator(t, Options{}).KeepProfilesIn(file); err == nil {
		t.Error("a damaged profiles file was accepted")
	}
}

// The control page names partners by company and people by name, and links back to the app.
func TestControlPageNamesPartnersAndPeople(t *testing.T) {
	e := newTestEmulator(t, Options{AppURL: "http://127.0.0.1:8080/"})
	e.SetOrganization(tenantB, Organization{CompanyName: "Fabrikam Partner", Domain: "fabrikam-partner.example", Country: "FR"})
	e.NamePerson(adminOID, "Ada Admin")
	serve(t, e, request{token: userToken(t, tenantA, readerOID)})
	doc, err := goquery.NewDocumentFromReader(serve(t, e, request{path: "/_emulator/"}).Body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find(`a[href="http://127.0.0.1:8080/"]`).Length() != 1 {
		t.Error("no link back to the app")
	}
	if got := doc.Find("table").First().Find("tbody th").First().Text(); !strings.HasPrefix(got, seedOrganization.CompanyName) {
		t.Errorf("the tenant's row is headed %q, want its company first", got)
	}
	named := 0
	doc.Find("table").Eq(1).Find("tbody th").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), adminOID) {
			named++
			if !strings.HasPrefix(s.Text(), "Ada Admin") {
				t.Errorf("a role of Ada Admin is headed %q, want her name first", s.Text())
			}
		}
	})
	if named != 2 { // her roles in tenants A and B
		t.Errorf("%d roles of Ada Admin shown, want 2", named)
	}
	var options []string
	doc.Find(`select[name="tenantId"] option`).Each(func(_ int, s *goquery.Selection) { options = append(options, s.Text()) })
	if len(options) != 2 || !strings.HasPrefix(options[0], "Contoso Partner") || !strings.HasPrefix(options[1], "Fabrikam Partner") {
		t.Errorf("the partners to change a profile of are offered as %q", options)
	}
}
