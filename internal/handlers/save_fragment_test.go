package handlers

import (
	"net/http"
	"strings"
	"testing"
)

// A save made with htmx is answered with the form's fragment alone, for htmx to swap in: no page
// around it. An invalid or unchanged form is answered without any call to Partner Center, not
// even the check, and an invalid one keeps every value typed.
func TestHTMXSaveAnswersWithTheFragmentOnly(t *testing.T) {
	tb := newTestbed(t)
	rec, frag := tb.request(http.MethodPost, "/save", tb.saveForm("website", "https://help.contoso.example"), "HX-Request", "true")
	if rec.Code != http.StatusOK || frag.Find("header").Length() != 0 || frag.Find("#profile").Length() != 1 {
		t.Fatalf("htmx save: %d, not the form's fragment alone:\n%s", rec.Code, rec.Body)
	}
	if got := text(frag.Find(`#notice[role="status"]`)); !strings.Contains(got, "www.contoso.example → https://help.contoso.example") {
		t.Errorf("notice %q", got)
	}

	calls := tb.pc.gets + tb.pc.puts
	rec, frag = tb.request(http.MethodPost, "/save", tb.saveForm("email", "two@a.example, three@b.example", "telephone", "+44 20 7946 0958"),
		"HX-Request", "true")
	if rec.Code != http.StatusUnprocessableEntity || text(frag.Find("#email-error")) == "" || frag.Find("header").Length() != 0 {
		t.Errorf("invalid save: %d, email message %q", rec.Code, text(frag.Find("#email-error")))
	}
	for name, want := range map[string]string{"email": "two@a.example, three@b.example", "telephone": "+44 20 7946 0958"} {
		if got := frag.Find(`input[name="`+name+`"]`).AttrOr("value", ""); got != want {
			t.Errorf("typed %s lost: %q", name, got)
		}
	}
	rec, frag = tb.request(http.MethodPost, "/save", tb.saveForm(), "HX-Request", "true")
	if rec.Code != http.StatusOK || !strings.Contains(text(frag.Find("#notice")), "Nothing to save") {
		t.Errorf("unchanged save: %d %q", rec.Code, text(frag.Find("#notice")))
	}
	if after := tb.pc.gets + tb.pc.puts; after != calls {
		t.Errorf("an invalid or unchanged form called Partner Center %d times", after-calls)
	}
}
