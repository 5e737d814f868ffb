package main

import (
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devidp"
)

// The whole app names the partner's company from Partner Center's organization profile: the
// first page shows the tenant id and asks for the profile in the background; the pages after it
// name the company, each with its one support profile GET, and the organization profile is not
// asked again.
func TestTheHeaderNamesTheCompanyFromPartnerCenter(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	doc := b.signIn(app, "other")
	if got := text(doc.Find("header details summary")); !strings.Contains(got, devidp.OtherTenantID) {
		t.Errorf("first page: the header says %q, want the tenant id", got)
	}
	for deadline := time.Now().Add(5 * time.Second); app.dev.emu.Stats().OrganizationGets == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the organization profile was never asked for")
		}
	}
	for range 4 {
		_, doc = b.get(app.url)
	}
	if got := text(doc.Find("header details summary")); !strings.Contains(got, "Fabrikam Partner") || !strings.Contains(got, "fabrikam-partner.example") {
		t.Errorf("later pages: the header says %q, want Fabrikam's name and domain", got)
	}
	if s := app.dev.emu.Stats(); s.Gets != 5 || s.OrganizationGets != 1 || s.Refused+s.OrganizationRefused != 0 {
		t.Errorf("5 page views made %+v, want 5 support profile GETs and 1 organization GET", s)
	}
}
