package handlers

import (
	"net/http"
	"strings"
	"testing"

	"pcsupport/internal/pcclient"
)

// Sam's role may read but not change the support profile. Once Partner Center has refused his
// save for it, the page shows the values read-only with the reason, who can change them (the
// people who saved them in this app) and a way to try anyway; trying anyway shows the form.
func TestRefusedForTheRoleShowsTheValuesReadOnly(t *testing.T) {
	store := openSQLiteHistory(t)
	admin := newHistoryApp(t, ada, store)
	admin.save(map[string]string{"telephone": "+1 425 555 0161"})

	sam := ada
	sam.Subject, sam.ObjectID, sam.Name, sam.Username = "s-sam", "oid-sam", "Sam Sales", "sam@contoso.example"
	a := newHistoryApp(t, sam, store, func(o *Options) { o.Profiles = admin.tb.pc })
	admin.tb.pc.mu.Lock()
	admin.tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindForbidden, Status: 403, Code: "900150"}}
	admin.tb.pc.mu.Unlock()
	if resp, frag := a.save(map[string]string{"telephone": "+1 425 555 0162"}); resp.StatusCode != http.StatusForbidden ||
		frag.Find(`input[name="telephone"]`).AttrOr("value", "") != "+1 425 555 0162" {
		t.Fatalf("the refused save: %d, the typed value %q", resp.StatusCode, frag.Find(`input[name="telephone"]`).AttrOr("value", ""))
	}

	_, doc := a.get("")
	page := text(doc.Find("main"))
	if doc.Find(`#profile form input[name="telephone"]`).Length() != 0 || !strings.Contains(page, "+1 425 555 0161") {
		t.Fatalf("after the refusal the page still offers the form, or not the values: %q", page)
	}
	for _, want := range []string{"can see these values but not change them", "Global admin or an Account admin", "Ada Admin"} {
		if !strings.Contains(page, want) {
			t.Errorf("the read-only page lacks %q: %q", want, page)
		}
	}
	try := doc.Find(`#profile a[href="/?edit=1"]`)
	if try.Length() != 1 {
		t.Fatalf("no way to try anyway: %q", page)
	}
	if _, doc = a.get("?edit=1"); doc.Find(`#profile form input[name="telephone"]`).Length() != 1 {
		t.Errorf("trying anyway does not show the form")
	}
	if _, doc = a.get(""); doc.Find(`#profile form input[name="telephone"]`).Length() != 1 {
		t.Errorf("after trying anyway the form is gone again")
	}
}

// A Global Administrator (wids) is known to be able: never read-only.
func TestAGlobalAdministratorIsNeverReadOnly(t *testing.T) {
	tb := newTestbed(t)
	u := signedInAda
	u.DirectoryRoles = []string{"62e90394-69f5-4237-9190-012177145e10"}
	tb.auth.user, tb.auth.roleRefused = &u, true
	if _, doc := tb.request(http.MethodGet, "/", nil); doc.Find(`#profile form input[name="telephone"]`).Length() != 1 {
		t.Error("a Global Administrator got the values read-only")
	}
	tb.auth.user = &signedInAda
	if _, doc := tb.request(http.MethodGet, "/", nil); doc.Find(`#profile form input`).Length() != 0 {
		t.Error("the refusal noted for another role is not honoured")
	}
}
