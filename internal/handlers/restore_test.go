package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/pcclient"
)

// restoreLinks are the entries' "Put these values back" links, newest first ("" for none).
func restoreLinks(doc *goquery.Document) []string {
	var out []string
	doc.Find("#history > li").Each(func(_ int, li *goquery.Selection) { out = append(out, li.Find("a.restore").AttrOr("href", "")) })
	return out
}

// formValues are the inputs of the form as a browser would send them.
func formValues(doc *goquery.Document) url.Values {
	form := url.Values{}
	doc.Find("#profile form input").Each(func(_ int, s *goquery.Selection) { form.Set(s.AttrOr("name", ""), s.AttrOr("value", "")) })
	return form
}

// Each entry of the history, the first recorded included, offers its values back: the form opens
// with them, marked as changed, saying whose they are; the save is a usual save, and its history
// entry says which entry's values it put back.
func TestPutTheseValuesBack(t *testing.T) {
	store := openSQLiteHistory(t)
	a := newHistoryApp(t, ada, store)
	a.save(map[string]string{"telephone": "+33 1 23 45 67 89"})
	a.tb.pc.set("help@contoso.example", "+33 1 23 45 67 89", "www.contoso.example")
	a.get("") // noticed: an outside change of the email

	_, doc := a.get("history")
	links, es := restoreLinks(doc), historyEntries(doc)
	if len(links) != 3 || links[0] == "" || links[1] == "" || links[2] == "" || !strings.HasPrefix(links[2], "/?restore=") {
		t.Fatalf("links to put values back: %q", links)
	}
	if got := text(doc.Find("a.restore").First()); got != "Put these values back" {
		t.Errorf("the link says %q", got)
	}
	baselineWhen := es[2].When

	// The values first recorded: the email and the telephone come back, marked as changed.
	_, doc = a.get(strings.TrimPrefix(links[2], "/"))
	if got := doc.Find(`input[name="email"]`).AttrOr("value", ""); got != "support@contoso.example" {
		t.Errorf("email %q", got)
	}
	if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != "4255550100" {
		t.Errorf("telephone %q", got)
	}
	for field, changed := range map[string]bool{"email": true, "telephone": true, "website": false} {
		if hidden := doc.Find("#"+field+"-changed[hidden]").Length() == 1; hidden == changed {
			t.Errorf("%s marked changed: %v, want %v", field, !hidden, changed)
		}
	}
	id := strings.TrimPrefix(links[2], "/?restore=")
	if got := doc.Find(`#profile form input[name="restored_from"]`).AttrOr("value", ""); got != id {
		t.Errorf("restored_from %q, want %q", got, id)
	}
	if got := text(doc.Find("#restore")); !strings.Contains(got, "The form shows the values of "+baselineWhen+", marked as changed.") {
		t.Errorf("the line about the values: %q", got)
	}

	// Saved as usual; the history says whose values were put back.
	resp, _ := a.postSave(formValues(doc))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	_, doc = a.get("history")
	es = historyEntries(doc)
	if len(es) != 4 || !strings.HasPrefix(es[0].Summary, "Saved in this app by Ada Admin") ||
		text(doc.Find("#history > li").First().Find("p.restored")) != "Put back the values of "+baselineWhen+"." {
		t.Fatalf("after the put back: %+v, %q", es, text(doc.Find("#history > li").First().Find("p.restored")))
	}
	if strings.Join(es[0].Changes, "|") != "Email: Before: help@contoso.example After: support@contoso.example|Telephone: Before: +33 1 23 45 67 89 After: 4255550100" {
		t.Errorf("the put back changed %q", es[0].Changes)
	}
	if doc.Find("p.restored").Length() != 1 {
		t.Errorf("%d entries say they put values back, want 1", doc.Find("p.restored").Length())
	}

	// The values of the newest entry are the current ones: nothing to put back, said so.
	_, doc = a.get(strings.TrimPrefix(restoreLinks(doc)[0], "/"))
	if doc.Find(`input[name="restored_from"]`).Length() != 0 || doc.Find(`[id$="-changed"]:not([hidden])`).Length() != 0 ||
		!strings.Contains(text(doc.Find("#restore")), "they are the current values already") {
		t.Errorf("putting back the current values: %q", text(doc.Find("#restore")))
	}
}

// The restored_from field outlives a form that comes back: a refused value, a conflict, the
// language switch.
func TestPutBackSurvivesTheFormComingBack(t *testing.T) {
	store := openSQLiteHistory(t)
	a := newHistoryApp(t, ada, store)
	a.save(map[string]string{"telephone": "+33 1 23 45 67 89"})
	_, doc := a.get("history")
	link := restoreLinks(doc)[1]
	id := strings.TrimPrefix(link, "/?restore=")
	_, doc = a.get(strings.TrimPrefix(link, "/"))
	form := formValues(doc)
	form.Set("email", "not an email")
	if _, frag := a.postSave(form); frag.Find(`input[name="restored_from"]`).AttrOr("value", "") != id {
		t.Errorf("a form refused for a value lost restored_from")
	}
	form.Set("email", "support@contoso.example")
	a.tb.pc.set("support@contoso.example", "+33 1 23 45 67 89", "www.elsewhere.example") // a colleague, meanwhile
	if resp, frag := a.postSave(form); resp.StatusCode != http.StatusConflict || frag.Find(`input[name="restored_from"]`).AttrOr("value", "") != id {
		t.Errorf("the conflict: %d, restored_from %q", resp.StatusCode, frag.Find(`input[name="restored_from"]`).AttrOr("value", ""))
	}
	if resp, _ := a.post("lang?to=fr&next=%2F", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("language switch: %d", resp.StatusCode)
	}
	_, doc = a.get("")
	if doc.Find(`input[name="restored_from"]`).AttrOr("value", "") != id || doc.Find(`input[name="telephone"]`).AttrOr("value", "") != "4255550100" {
		t.Errorf("after the language switch: restored_from %q, telephone %q", doc.Find(`input[name="restored_from"]`).AttrOr("value", ""),
			doc.Find(`input[name="telephone"]`).AttrOr("value", ""))
	}
	if _, doc = a.get("history", "Accept-Language", "fr"); text(doc.Find("a.restore").First()) != "Remettre ces valeurs" {
		t.Errorf("French link: %q", text(doc.Find("a.restore").First()))
	}
}

// An entry id of another tenant, unknown or malformed opens the form as usual, saying the entry
// cannot be put back; nothing of the other tenant shows.
func TestPutBackOfAnotherTenantsEntry(t *testing.T) {
	store := openSQLiteHistory(t)
	contoso := newHistoryApp(t, ada, store)
	contoso.save(map[string]string{"email": "secret@contoso.example"})
	_, doc := contoso.get("history")
	theirs := restoreLinks(doc)

	fabrikam := newHistoryApp(t, olga, store)
	fabrikam.tb.pc.set("help@fabrikam.example", "4255550999", "www.fabrikam.example")
	for _, path := range append(theirs, "/?restore=999999", "/?restore=abc", "/?restore=-1", "/?restore=0") {
		resp, doc := fabrikam.get(strings.TrimPrefix(path, "/"))
		page := text(doc.Find("main"))
		if resp.StatusCode != http.StatusOK || doc.Find(`input[name="email"]`).AttrOr("value", "") != "help@fabrikam.example" ||
			strings.Contains(page, "contoso") || doc.Find(`input[name="restored_from"]`).Length() != 0 ||
			doc.Find(`[id$="-changed"]:not([hidden])`).Length() != 0 {
			t.Errorf("%s: %d, %q", path, resp.StatusCode, page)
		}
		if got := text(doc.Find("#restore")); !strings.HasPrefix(got, "This history entry cannot be put back") {
			t.Errorf("%s: the line says %q", path, got)
		}
	}
	// A restored_from of another tenant sent with a save is not recorded as what it put back.
	_, doc = fabrikam.get("")
	form := formValues(doc)
	form.Set("telephone", "4255550998")
	form.Set("restored_from", strings.TrimPrefix(theirs[0], "/?restore="))
	fabrikam.postSave(form)
	if _, doc = fabrikam.get("history"); doc.Find("p.restored").Length() != 0 {
		t.Errorf("Olga's save names Contoso's entry: %q", text(doc.Find("p.restored")))
	}
}

// Whose page shows the values read-only gets no link to put values back, and the link does not
// give them a form.
func TestPutBackNotOfferedReadOnly(t *testing.T) {
	store := openSQLiteHistory(t)
	admin := newHistoryApp(t, ada, store)
	admin.save(map[string]string{"telephone": "+1 425 555 0161"})
	_, doc := admin.get("history")
	link := restoreLinks(doc)[1]

	sam := ada
	sam.Subject, sam.ObjectID, sam.Name, sam.Username = "s-sam", "oid-sam", "Sam Sales", "sam@contoso.example"
	a := newHistoryApp(t, sam, store, func(o *Options) { o.Profiles = admin.tb.pc })
	admin.tb.pc.mu.Lock()
	admin.tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindForbidden, Status: 403, Code: "900150"}}
	admin.tb.pc.mu.Unlock()
	a.save(map[string]string{"telephone": "+1 425 555 0162"})

	_, doc = a.get("history")
	if len(historyEntries(doc)) != 2 || doc.Find("a.restore").Length() != 0 {
		t.Errorf("read-only: %d entries, %d links to put values back", len(historyEntries(doc)), doc.Find("a.restore").Length())
	}
	if _, doc = a.get(strings.TrimPrefix(link, "/")); doc.Find(`#profile form input[name="telephone"]`).Length() != 0 || doc.Find("#restore").Length() != 0 {
		t.Errorf("the link gave a read-only person a form")
	}
}

// Put back values kept across a new sign-in still name their entry when they come back.
func TestPutBackSurvivesANewSignIn(t *testing.T) {
	a := newHistoryApp(t, ada, openSQLiteHistory(t))
	a.save(map[string]string{"telephone": "+33 1 23 45 67 89"})
	_, doc := a.get("history")
	link := restoreLinks(doc)[1]
	id := strings.TrimPrefix(link, "/?restore=")
	_, doc = a.get(strings.TrimPrefix(link, "/"))
	form := formValues(doc)

	a.tb.auth.mu.Lock()
	a.tb.auth.user = nil // the session ended before the save
	a.tb.auth.mu.Unlock()
	a.postSave(form)
	a.tb.auth.mu.Lock()
	kept := a.tb.auth.kept.Get("restored_from")
	u := ada
	a.tb.auth.user = &u
	a.tb.auth.mu.Unlock()
	if kept != id {
		t.Fatalf("kept restored_from %q, want %q", kept, id)
	}
	if _, doc = a.get(""); doc.Find(`input[name="restored_from"]`).AttrOr("value", "") != id || doc.Find(`input[name="telephone"]`).AttrOr("value", "") != "4255550100" {
		t.Errorf("after signing in again: restored_from %q", doc.Find(`input[name="restored_from"]`).AttrOr("value", ""))
	}
}
