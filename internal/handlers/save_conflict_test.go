package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Two forms are loaded from the same values; one saves; the other's save is not applied and
// shows, field by field, what it loaded, what is there now and what was typed. Saving over it
// keeps the colleague's change to the field this form did not touch.
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
	if r := rows["Telephone"]; len(r) != 3 || r[0] != "4255550100" || !strings.HasPrefix(r[1], "+1 425 555 0101") || r[2] != "4255550100" {
		t.Errorf("telephone row (loaded, now, typed) = %q", r)
	}
	if r := rows["Website"]; len(r) != 3 || r[0] != "www.contoso.example" || r[1] != "www.contoso.example" ||
		!strings.HasPrefix(r[2], "https://support.contoso.example") {
		t.Errorf("website row = %q", r)
	}
	if _, ok := rows["Email"]; ok {
		t.Error("a field nobody changed is listed")
	}
	if frag.Find(`a:contains("Take the current values and start again")`).Length() != 1 {
		t.Error("no way to start again from the current values")
	}

	// "Save my values over theirs": the form now holds Bob's change on top of the current values.
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
