package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Two forms are loaded from the same values; one saves; the other's save is not applied and
// shows, field by field, what it loaded, what is there now and what each choice stores: saving
// stores this form's own change and keeps the colleague's in the field this form did not touch.
func TestConflictIsShownAndNothingIsRevertedUnseen(t *testing.T) {
	tb := newTestbed(t)
	alice, bob := tb.saveForm("telephone", "+1 425 555 0101"), tb.saveForm("website", "https://support.contoso.example")
	if rec, _ := tb.request(http.MethodPost, "/save", alice, "HX-Request", "true"); rec.Code != http.StatusOK {
		t.Fatalf("first save: %d", rec.Code)
	}
	rec, frag := tb.request(http.MethodPost, "/save", bob, "HX-Request", "true")
	if rec.Code != http.StatusConflict {
		t.Fatalf("second save answered %d, want 409", rec.Code)
	}
	if p := tb.pc.current(); p.Telephone != "+1 425 555 0101" || p.Website != "www.contoso.example" {
		t.Fatalf("the conflicting save changed Partner Center: %+v", p)
	}
	rows := map[string][]string{}
	frag.Find("table tbody tr").Each(func(_ int, r *goquery.Selection) {
		var cells []string
		r.Find("th, td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, text(c)) })
		rows[cells[0]] = cells[1:]
	})
	if r := rows["Telephone"]; len(r) != 3 || r[0] != "4255550100" || r[1] != "+1 425 555 0101 changed since" ||
		r[2] != "+1 425 555 0101 the current value, kept" {
		t.Errorf("telephone row (loaded, now, stored if saved) = %q; saving must keep the colleague's value", r)
	}
	if r := rows["Website"]; len(r) != 3 || r[0] != "www.contoso.example" || r[1] != "www.contoso.example" ||
		r[2] != "https://support.contoso.example your change" {
		t.Errorf("website row = %q", r)
	}
	if _, ok := rows["Email"]; ok {
		t.Error("a field nobody changed is listed")
	}
	if frag.Find(`a:contains("Start again from the current values")`).Length() != 1 ||
		frag.Find(`button[type="submit"]:contains("Save your changes")`).Length() != 1 {
		t.Error("the two ways on are not offered in words that say what they do")
	}

	// "Save your changes": the form now holds Bob's change on top of the current values.
	again := url.Values{}
	frag.Find("#profile form input").Each(func(_ int, s *goquery.Selection) { again.Set(s.AttrOr("name", ""), s.AttrOr("value", "")) })
	if again.Get("telephone") != "+1 425 555 0101" || again.Get("website") != "https://support.contoso.example" {
		t.Fatalf("conflict form holds %v", again)
	}
	if rec, frag = tb.request(http.MethodPost, "/save", again, "HX-Request", "true"); rec.Code != http.StatusOK {
		t.Fatalf("save over: %d %s", rec.Code, text(frag.Find("#notice")))
	}
	if p := tb.pc.current(); p.Telephone != "+1 425 555 0101" || p.Website != "https://support.contoso.example" {
		t.Errorf("after saving over: telephone %q (Alice's must stay), website %q", p.Telephone, p.Website)
	}
}

// The conflict names who made the change it met, as the change history does: a colleague by name
// when they saved here, "outside this app" when the portal or a script did.
func TestConflictSaysWhoChangedIt(t *testing.T) {
	store := openSQLiteHistory(t)
	a := newHistoryApp(t, ada, store)
	_, loaded := a.get("")
	form := url.Values{}
	loaded.Find("#profile form input").Each(func(_ int, s *goquery.Selection) { form.Set(s.AttrOr("name", ""), s.AttrOr("value", "")) })

	sam := ada
	sam.Subject, sam.ObjectID, sam.Name, sam.Username = "s-sam", "oid-sam", "Sam Sales", "sam@contoso.example"
	b := newHistoryApp(t, sam, store, func(o *Options) { o.Profiles = a.tb.pc }) // one Partner Center for both
	b.save(map[string]string{"telephone": "+1 425 555 0155"})

	form.Set("website", "https://help.contoso.example")
	if _, frag := a.postSave(form); !strings.Contains(text(frag.Find("#notice")), "Sam Sales changed it in this app at ") {
		t.Errorf("a colleague's save: %q", text(frag.Find("#notice")))
	}

	a.tb.pc.set("support@contoso.example", "+1 425 555 0166", "www.contoso.example")
	form.Set("submission", newSubmissionID())
	if _, frag := a.postSave(form); !strings.Contains(text(frag.Find("#notice")), "changed outside this app") {
		t.Errorf("a change made in the portal: %q", text(frag.Find("#notice")))
	}
}
