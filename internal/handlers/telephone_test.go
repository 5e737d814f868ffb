package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/i18n"
	"pcsupport/internal/pcclient"
)

// A telephone number is checked as a number of the partner's country: one that can be dialled
// passes as typed when it has its + country code, is offered in international form when it is
// written as dialled within the country, and is refused with an example otherwise.
func TestTelephoneNumbers(t *testing.T) {
	const valid, offered, invalid = "valid as typed", "offered", "invalid"
	tests := []struct {
		number, region string
		check          telephoneCheck // besides the region
		want           string
		detail         string // the international form offered, or a part of the message
	}{
		// With + and the country code: checked in full, whatever the country.
		{number: "+1 425 555 0100", region: "US", want: valid},
		{number: "+1.425.555.0100", region: "US", want: valid},
		{number: "+33 1 23 45 67 89", region: "US", want: valid},
		{number: "+44 20 7946 0000", region: "FR", want: valid},
		{number: "+41 44 668 18 00", region: "", want: valid},
		{number: "+33 1 23", region: "US", want: invalid, detail: "Numbers that start with +33 look like +33 1 23 45 67 89."},
		{number: "+1 000 000 0001", region: "FR", want: invalid, detail: "Numbers that start with +1 look like +1 201-555-0123."},
		{number: "+999 123 456", region: "US", want: invalid, detail: "with + and the country code"},
		{number: "+1 425 555 0100 ext. 12", region: "US", want: invalid, detail: "+1 201-555-0123"},
		// As dialled within the partner's country: offered in international form.
		{number: "4255550100", region: "US", want: offered, detail: "+1 425-555-0100"},
		{number: "(425) 555-0100", region: "US", want: offered, detail: "+1 425-555-0100"},
		{number: "1-800-642-7676", region: "US", want: offered, detail: "+1 800-642-7676"},
		{number: "01 23 45 67 89", region: "FR", want: offered, detail: "+33 1 23 45 67 89"},
		{number: "0033 1 23 45 67 89", region: "FR", want: offered, detail: "+33 1 23 45 67 89"},
		{number: "4255550100", region: "US", check: telephoneCheck{asTyped: true}, want: valid},
		// Not a number of that country: an example of one.
		{number: "01 23 45 67 89", region: "US", want: invalid, detail: "looks like (201) 555-0123, or +1 201-555-0123 from abroad"},
		{number: "425 555", region: "US", want: invalid, detail: "(201) 555-0123"},
		{number: "4255550100", region: "FR", want: invalid, detail: "looks like 01 23 45 67 89, or +33 1 23 45 67 89 from abroad"},
		{number: "call us", region: "US", want: invalid, detail: "(201) 555-0123"},
		{number: "12+34", region: "FR", want: invalid, detail: "01 23 45 67 89"},
		{number: "(425 555-0100", region: "US", want: invalid, detail: "(201) 555-0123"},
		// The country not known yet: without + only a loose check, and nothing offered.
		{number: "4255550100", region: "", want: valid},
		{number: "123", region: "", want: invalid, detail: "does not know your company's country yet"},
		{number: "call us", region: "", want: invalid, detail: "4 to 15 digits"},
		{number: "4255550100", region: "AQ", want: valid}, // Antarctica: a country with no numbering plan of its own
		// The number the form was loaded with passes: Partner Center holds it already.
		{number: "+33 1 23", region: "US", check: telephoneCheck{loaded: "+33 1 23", loadedKnown: true}, want: valid},
		{number: "4255550100", region: "US", check: telephoneCheck{loaded: "4255550100", loadedKnown: true}, want: valid},
	}
	en := i18n.Default().Get("en")
	spec := fieldSpecs[1]
	for _, tt := range tests {
		t.Run(tt.region+"/"+tt.number, func(t *testing.T) {
			tc := tt.check
			tc.region = tt.region
			p, bad := tc.check(tt.number)
			got := valid
			switch {
			case bad && p.suggest != "":
				got = offered
			case bad:
				got = invalid
			}
			message := ""
			if bad {
				message = p.in(en, spec)
			}
			if got != tt.want {
				t.Fatalf("%s, want %s: %q", got, tt.want, message)
			}
			switch got {
			case offered:
				if p.suggest != tt.detail || p.keep != tt.number || !strings.Contains(message, "Did you mean "+tt.detail+"?") {
					t.Errorf("offered %q (keep %q): %q; want %s", p.suggest, p.keep, message, tt.detail)
				}
			case invalid:
				if !strings.Contains(message, tt.detail) {
					t.Errorf("message %q does not say %q", message, tt.detail)
				}
			}
		})
	}
}

// A valid number written as dialled within the country is offered in international form before
// anything is saved, with htmx and without JavaScript: the field holds the offer, a second press
// of Save stores it, and "Keep" stores the number as typed instead.
func TestTelephoneOfferedThenSaved(t *testing.T) {
	for _, htmx := range []bool{true, false} {
		name := "without JavaScript"
		headers := []string{}
		if htmx {
			name, headers = "htmx", []string{"HX-Request", "true"}
		}
		t.Run(name, func(t *testing.T) {
			tb, _ := withOrganizations(t, &scriptedOrganizations{profile: contosoOrganization})
			tb.view() // Partner Center tells the company's country after the first page

			form := tb.saveForm("telephone", "425 555 0199")
			rec, doc := tb.request(http.MethodPost, "/save", form, headers...)
			if rec.Code != http.StatusUnprocessableEntity || tb.pc.gets+tb.pc.puts != 1 {
				t.Fatalf("first press: %d, %d calls to Partner Center besides the page's GET", rec.Code, tb.pc.gets+tb.pc.puts-1)
			}
			tel := doc.Find(`input[name="telephone"]`)
			suggestion := text(doc.Find("#telephone-suggestion"))
			if tel.AttrOr("value", "") != "+1 425-555-0199" || !strings.Contains(suggestion, "Did you mean +1 425-555-0199?") ||
				!strings.Contains(tel.AttrOr("aria-describedby", ""), "telephone-suggestion") || tel.AttrOr("aria-invalid", "") != "" {
				t.Fatalf("the offer: field %q described by %q, suggestion %q", tel.AttrOr("value", ""), tel.AttrOr("aria-describedby", ""), suggestion)
			}
			keep := doc.Find(`button[type="submit"][name="keep_telephone"]`)
			if keep.AttrOr("value", "") != "425 555 0199" || !strings.Contains(text(keep), "Keep 425 555 0199") {
				t.Fatalf("no way to keep the number as typed: %q %q", keep.AttrOr("value", ""), text(keep))
			}
			if doc.Find(`#profile button[type="submit"]`).First().AttrOr("name", "") != "" {
				t.Error("Save is not the form's first button: Enter would keep the number as typed")
			}

			// Save again: the form as shown, with the offer in the field.
			rec, doc = tb.request(http.MethodPost, "/save", formAsShown(doc), headers...)
			wantSaved(t, tb, rec, doc, htmx, "+1 425-555-0199")

			// Offered again, and kept as typed this time.
			form = tb.saveForm("telephone", "(425) 555-0177")
			_, doc = tb.request(http.MethodPost, "/save", form, headers...)
			kept := formAsShown(doc)
			kept.Set("keep_telephone", doc.Find(`button[name="keep_telephone"]`).AttrOr("value", ""))
			rec, doc = tb.request(http.MethodPost, "/save", kept, headers...)
			wantSaved(t, tb, rec, doc, htmx, "(425) 555-0177")
		})
	}
}

// While another field is wrong, the number stays as typed and nothing is offered yet: the offer
// comes with the next press of Save, once the rest is right.
func TestTelephoneOfferedOnceTheRestIsRight(t *testing.T) {
	tb, _ := withOrganizations(t, &scriptedOrganizations{profile: contosoOrganization})
	tb.view()
	_, doc := tb.request(http.MethodPost, "/save", tb.saveForm("email", "not an address", "telephone", "(425) 555-0199"), "HX-Request", "true")
	if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != "(425) 555-0199" || doc.Find("#telephone-suggestion").Length() != 0 {
		t.Errorf("with the email wrong the telephone reads %q, offer %q", got, text(doc.Find("#telephone-suggestion")))
	}
	form := formAsShown(doc)
	form.Set("email", "help@contoso.example")
	_, doc = tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
	if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != "+1 425-555-0199" {
		t.Errorf("with the email right the telephone reads %q, want the offer", got)
	}
}

// Fabrikam is in France: a French number as dialled there is offered with +33.
func TestTelephoneOfferedForThePartnersCountry(t *testing.T) {
	tb, _ := withOrganizations(t, &scriptedOrganizations{profile: pcclient.OrganizationProfile{CompanyName: "Fabrikam Partner", Country: "FR"}})
	tb.view()
	_, doc := tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "01 23 45 67 89"), "HX-Request", "true")
	if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != "+33 1 23 45 67 89" {
		t.Errorf("offered %q", got)
	}
	_, doc = tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "425 555 0199"), "HX-Request", "true")
	if got := text(doc.Find("#telephone-error")); !strings.Contains(got, "01 23 45 67 89") {
		t.Errorf("a US number for a French partner: %q", got)
	}
}

// formAsShown is the form as a browser would send it with Save: every input as the page holds it.
func formAsShown(doc *goquery.Document) url.Values {
	f := url.Values{}
	doc.Find("#profile form input").Each(func(_ int, s *goquery.Selection) { f.Set(s.AttrOr("name", ""), s.AttrOr("value", "")) })
	return f
}

// wantSaved checks that a save stored telephone: the answer says so (htmx) or redirects to the
// page (without JavaScript), and Partner Center holds it.
func wantSaved(t *testing.T, tb *testbed, rec interface{ Result() *http.Response }, doc *goquery.Document, htmx bool, telephone string) {
	t.Helper()
	status := rec.Result().StatusCode
	if htmx && (status != http.StatusOK || !strings.Contains(text(doc.Find("#notice")), "Saved.")) {
		t.Errorf("save: %d %q", status, text(doc.Find("#notice")))
	}
	if !htmx && status != http.StatusSeeOther {
		t.Errorf("save without JavaScript: %d, want the redirect", status)
	}
	if got := tb.pc.current().Telephone; got != telephone {
		t.Errorf("Partner Center holds %q, want %q", got, telephone)
	}
}
