package handlers

import (
	"net/http"
	"strings"
	"testing"
)

// Posts from another site or without the form's token are refused with a page that says why,
// and nothing reaches Partner Center.
func TestForeignPostsAreRefusedWithAnExplanation(t *testing.T) {
	for _, tt := range []struct {
		name    string
		csrf    string
		headers []string
	}{
		{"from another site", testCSRF, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
		{"without the token", "", nil},
		{"with a forged token", "forged", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t)
			form := tb.saveForm("telephone", "+1 555 0100 999")
			form.Set(csrfField, tt.csrf)
			rec, page := tb.request(http.MethodPost, "/save", form, tt.headers...)
			if rec.Code != http.StatusForbidden || !strings.Contains(text(page.Find("main")), "expired or did not come from this app") {
				t.Errorf("%d %q", rec.Code, text(page.Find("main")))
			}
			if tb.pc.gets+tb.pc.puts != 0 {
				t.Error("Partner Center was called")
			}
		})
	}
}

// Invalid UTF-8, very long values, script URLs and markup are refused next to their field, and
// what was typed comes back as text, never as markup.
func TestHostileValuesAreRefusedAndShownInert(t *testing.T) {
	tb := newTestbed(t)
	for _, tt := range []struct{ field, value, want string }{
		{"email", "sup\xffport@contoso.example", "not text"},
		{"telephone", strings.Repeat("5", 5000), "too long"},
		{"website", "javascript:alert(document.cookie)", "Enter a host name"},
		{"email", `"><script>alert(1)</script>@x.example`, "one email address"},
	} {
		rec, frag := tb.request(http.MethodPost, "/save", tb.saveForm(tt.field, tt.value), "HX-Request", "true")
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(text(frag.Find("#"+tt.field+"-error")), tt.want) {
			t.Errorf("%s=%.40q: %d %q", tt.field, tt.value, rec.Code, text(frag.Find("#"+tt.field+"-error")))
		}
		if strings.Contains(rec.Body.String(), "<script>alert") {
			t.Errorf("%s: markup echoed live", tt.field)
		}
	}
	if tb.pc.gets+tb.pc.puts != 0 {
		t.Error("invalid values reached Partner Center")
	}
}

// Markup stored in Partner Center (by another tool) is shown as text, never run.
func TestStoredMarkupIsShownInert(t *testing.T) {
	tb := newTestbed(t)
	evil := `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	tb.pc.set(evil+"@x.example", "4255550100", "javascript:alert(3)")
	rec, doc := tb.request(http.MethodGet, "/", nil)
	if raw := rec.Body.String(); strings.Contains(raw, "<script>alert(1)") || strings.Contains(raw, "<img src=x") {
		t.Fatal("stored markup rendered as markup")
	}
	if got := doc.Find(`input[name="email"]`).AttrOr("value", ""); got != evil+"@x.example" {
		t.Errorf("the stored value is not shown as it is: %q", got)
	}
	if doc.Find(`a[href^="javascript:"]`).Length() != 0 {
		t.Error("a javascript: link was made from stored data")
	}
}
