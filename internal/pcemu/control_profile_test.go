package pcemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// apiProfile reads tenantA's profile through the API, as the app does.
func apiProfile(t *testing.T, e *Emulator) map[string]any {
	t.Helper()
	rec := serve(t, e, request{token: userToken(t, tenantA, readerOID)})
	var p map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(rec.Body.String(), "\uFEFF")), &p); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET through the API: %d %s", rec.Code, rec.Body)
	}
	return p
}

// The control page offers a form, filled with a known tenant's values, that changes the stored
// profile as the Partner Center portal would: the next API read returns the new values, and no
// API request is counted for it.
func TestControlFormChangesAProfileBehindTheAppsBack(t *testing.T) {
	e := newTestEmulator(t, Options{})
	apiProfile(t, e) // tenantA is now known
	before := e.Stats()

	doc, err := goquery.NewDocumentFromReader(serve(t, e, request{path: "/_emulator/"}).Body)
	if err != nil {
		t.Fatal(err)
	}
	form := doc.Find(`form[action="profile"][method="post"]`)
	values := url.Values{}
	form.Find("input, select").Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("id", "")
		if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("input %s has no label", s.AttrOr("name", "?"))
		}
		value := s.AttrOr("value", "")
		if goquery.NodeName(s) == "select" {
			value = s.Find("option[selected]").AttrOr("value", "")
		}
		values.Set(s.AttrOr("name", ""), value)
	})
	if values.Get("tenantId") != tenantA || values.Get("email") != seedProfile.Email {
		t.Fatalf("the profile form is not filled with the tenant's values: %v", values)
	}
	// The partner is chosen by its company's name.
	if got := form.Find(`select[name="tenantId"] option[selected]`).Text(); !strings.HasPrefix(got, seedOrganization.CompanyName) {
		t.Errorf("the partner is offered as %q", got)
	}

	values.Set("email", "desk@contoso-partner.example")
	rec := postForm(t, e, "/_emulator/profile", values)
	if rec.Code != http.StatusSeeOther || resolve(t, "/_emulator/profile", rec.Header().Get("Location")) != "/_emulator/" {
		t.Fatalf("change: %d Location %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if got := apiProfile(t, e); got["email"] != "desk@contoso-partner.example" || got["telephone"] != seedProfile.Telephone {
		t.Errorf("the API now returns %v", got)
	}
	if got := e.Stats(); got.Puts != before.Puts || got.Refused != before.Refused {
		t.Errorf("the change was counted as an API request: %+v -> %+v", before, got)
	}
}

// The portal refuses what the API refuses: the page says why and keeps what was typed; nothing
// is stored.
func TestControlFormRefusesAnInvalidProfile(t *testing.T) {
	e := newTestEmulator(t, Options{})
	rec := postForm(t, e, "/_emulator/profile", url.Values{"tenantId": {tenantA}, "email": {"not an address"},
		"telephone": {"4255550100"}, "website": {""}})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	doc, _ := goquery.NewDocumentFromReader(rec.Body)
	alert := doc.Find(`[role="alert"]`).Text()
	if !strings.Contains(alert, "'Email' is invalid") || !strings.Contains(alert, "'Website' is required") {
		t.Errorf("the page says %q", alert)
	}
	if doc.Find("#change-email").AttrOr("value", "") != "not an address" {
		t.Error("the typed email is not kept")
	}
	if email, _, _ := e.Profile(tenantA); email != seedProfile.Email {
		t.Errorf("an invalid profile was stored: %q", email)
	}
}

// Tools change a profile with JSON and get the tenant's state back; mistakes get a 400 that says
// what is wrong.
func TestControlJSONChangesAProfile(t *testing.T) {
	e := newTestEmulator(t, Options{})
	post := func(body string) (int, string) {
		rec := serve(t, e, request{method: http.MethodPost, path: "/_emulator/profile", body: body})
		return rec.Code, rec.Body.String()
	}
	code, body := post(`{"tenantId":"` + tenantA + `","email":"desk@contoso-partner.example","telephone":"+33 1 23 45 67 89","website":"https://www.contoso-partner.example"}`)
	var state tenantSnapshot
	if err := json.Unmarshal([]byte(body), &state); err != nil || code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if state.TenantID != tenantA || state.Profile.Telephone != "+33 1 23 45 67 89" {
		t.Errorf("answer %+v", state)
	}
	if got := apiProfile(t, e); got["website"] != "https://www.contoso-partner.example" {
		t.Errorf("the API now returns %v", got)
	}

	for _, bad := range []string{
		`{"email":"a@b.example","telephone":"4255550100","website":"www.b.example"}`,                                // no tenant
		`{"tenantId":"t","email":"a@b.example","telephone":"phone","website":"www.b.example"}`,                      // invalid
		`{"tenantId":"t","email":"a@b.example","telephone":"4255550100","website":"www.b.example","colour":"blue"}`, // a typo
		`nope`,
	} {
		if code, body := post(bad); code != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	if _, tel, _ := e.Profile("t"); tel == "phone" {
		t.Error("an invalid profile was stored")
	}
}
