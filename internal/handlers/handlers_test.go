package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/auth"
	"pcsupport/internal/i18n"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/sessionstore"
)

// namesAsPaths serves every asset under its own name.
type namesAsPaths struct{}

func (namesAsPaths) Path(name string) string { return name }

func TestFrenchFromTheBrowserAndXLocale(t *testing.T) {
	tb := newTestbed(t)
	_, doc := tb.request(http.MethodGet, "/", nil, "Accept-Language", "fr-FR,fr;q=0.9")
	if lang, _ := doc.Find("html").Attr("lang"); lang != "fr" {
		t.Errorf("html lang = %q", lang)
	}
	if got := doc.Find(`label[for="telephone"]`).Text(); !strings.Contains(got, "Téléphone du support") {
		t.Errorf("label = %q", got)
	}
	if got := doc.Find(`button[type="submit"]`).Last().Text(); got != "Enregistrer" {
		t.Errorf("button = %q", got)
	}
	if got := tb.pc.requests[len(tb.pc.requests)-1].Locale; got != "fr-FR" {
		t.Errorf("X-Locale sent to Partner Center = %q, want fr-FR", got)
	}
	_, doc = tb.request(http.MethodGet, "/", nil, "Accept-Language", "en-GB")
	if got := doc.Find(`button[type="submit"]`).Last().Text(); got != "Save" {
		t.Errorf("English button = %q", got)
	}
	if got := tb.pc.requests[len(tb.pc.requests)-1].Locale; got != "en-US" {
		t.Errorf("X-Locale = %q, want en-US", got)
	}
}

func TestLanguageSwitchIsRemembered(t *testing.T) {
	app := newTestbed(t).serve()
	resp, _ := app.get("lang?to=fr&next=%2F%3Ftab%3D1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?tab=1" {
		t.Fatalf("switch: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc := app.get("", "Accept-Language", "en-US")
	if lang, _ := doc.Find("html").Attr("lang"); lang != "fr" {
		t.Errorf("the choice was not remembered over Accept-Language: lang=%q", lang)
	}
	if doc.Find(`nav button[lang="en"][formaction*="to=en"]`).Length() != 1 || doc.Find(`nav [aria-current="true"]`).Text() != "Français" {
		t.Errorf("language switch in the page: %s", doc.Find("nav").Text())
	}
	resp, _ = app.get("lang?to=fr&next=%2F%2Fevil.example")
	if resp.Header.Get("Location") != "/" {
		t.Errorf("switch to another site: %s", resp.Header.Get("Location"))
	}
}

// Every explanation of a Partner Center failure exists in French, and differs from the English.
func TestExplanationsInBothLanguages(t *testing.T) {
	en, fr := i18n.Default().Get("en"), i18n.Default().Get("fr")
	errs := []error{auth.ErrSignInRequired, context.Canceled}
	for k := pcclient.KindUnknown; k <= pcclient.KindBadResponse; k++ {
		errs = append(errs, &pcclient.Error{Kind: k, Status: 500, Code: "1", RetryAfter: 2e9})
	}
	for _, err := range errs {
		for _, step := range []string{stepGet, stepUpdate} {
			e, f := explain(en, err, "c", step, answerTo{}), explain(fr, err, "c", step, answerTo{})
			if e.notice.Title == f.notice.Title || strings.Join(e.notice.Lines, "") == strings.Join(f.notice.Lines, "") {
				t.Errorf("%v/%s: the French explanation is the English one: %q", err, step, f.notice.Title)
			}
			if e.status != f.status || e.status < 400 {
				t.Errorf("%v: statuses %d / %d", err, e.status, f.status)
			}
		}
	}
	if missing := i18n.MissingSoFar(); len(missing) > 0 {
		t.Errorf("missing messages: %v", missing)
	}
}

func TestValidationInFrenchKeepsInput(t *testing.T) {
	tb := newTestbed(t)
	form := url.Values{"email": {"pas une adresse"}, "telephone": {"4255550100"}, "website": {"www.contoso.example"}}
	rec, doc := tb.request(http.MethodPost, "/save", form, "Accept-Language", "fr", "HX-Request", "true")
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(doc.Find("#email-error").Text(), "Saisissez une seule adresse e-mail") {
		t.Errorf("French field error: %d %q", rec.Code, doc.Find("#email-error").Text())
	}
	if v, _ := doc.Find("#email").Attr("value"); v != "pas une adresse" {
		t.Errorf("typed value lost: %q", v)
	}
	if _, ok := doc.Find("#email").Attr("autofocus"); !ok {
		t.Error("focus does not go to the first field in error")
	}
	if tb.pc.gets+tb.pc.puts != 0 {
		t.Error("an invalid form reached Partner Center")
	}
}

// Saves of one partner wait for each other only so long; then the person is told, with their
// values kept, and nothing reaches Partner Center.
func TestSaveWaitingTooLongForOtherSaves(t *testing.T) {
	tb := newTestbed(t)
	tb.h.tenantLockWait = 20 * time.Millisecond
	unlock, _ := tb.h.tenantLocks.Lock(context.Background(), historyTenant(signedInAda))
	defer unlock()
	rec, _ := tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+1 425 555 0100"), "HX-Request", "true")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Other saves for your company") ||
		!strings.Contains(rec.Body.String(), `value="+1 425 555 0100"`) {
		t.Errorf("busy save: %d\n%s", rec.Code, rec.Body.String())
	}
	if tb.pc.gets+tb.pc.puts != 0 {
		t.Error("Partner Center was called")
	}
}

// With the session store down the person is not sent to sign in (that would fail too): they are
// told to try again shortly.
func TestSessionStoreDownIsNotSignedOut(t *testing.T) {
	tb := newTestbed(t)
	tb.auth.user, tb.auth.userErr = nil, fmt.Errorf("read session: %w", sessionstore.ErrUnavailable)
	rec, _ := tb.request(http.MethodGet, "/", nil)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Your session cannot be read right now") {
		t.Errorf("store down: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

// Switching language on the form keeps what was typed: the switch submits the form, nothing is
// saved, and the form comes back in the other language with the typed values marked as changed.
// (Pages without the form keep plain links.)
func TestLanguageSwitchKeepsWhatWasTyped(t *testing.T) {
	tb := newTestbed(t)
	form := tb.saveForm("telephone", "+1 425 555 0188")
	rec, _ := tb.request(http.MethodPost, "/lang?to=fr&next=%2F", form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" || tb.pc.puts != 0 {
		t.Fatalf("switch: %d to %q, %d PUTs", rec.Code, rec.Header().Get("Location"), tb.pc.puts)
	}
	rec, _ = tb.request(http.MethodPost, "/lang?to=fr&next=%2F", tb.saveForm("telephone", "+1 425 555 0189"), "HX-Request", "true")
	if rec.Header().Get("HX-Redirect") != "/" {
		t.Errorf("with htmx the switch answers %d with HX-Redirect %q, want a whole page", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	_, doc := tb.request(http.MethodGet, "/", nil, "Cookie", "pcs_lang=fr; "+csrfCookie+"="+testCSRF)
	tel := doc.Find(`input[name="telephone"]`)
	if tel.AttrOr("value", "") != "+1 425 555 0189" || doc.Find("#telephone-changed[hidden]").Length() != 0 {
		t.Errorf("after the switch the telephone reads %q (changed mark hidden: %v)", tel.AttrOr("value", ""), doc.Find("#telephone-changed[hidden]").Length() == 1)
	}
	if lang, _ := doc.Find("html").Attr("lang"); lang != "fr" || doc.Find("#notice").Length() != 0 {
		t.Errorf("after the switch: lang %q, notice %q", lang, text(doc.Find("#notice")))
	}
	_, hist := tb.request(http.MethodGet, "/no/such/page", nil)
	if hist.Find(`nav a[hreflang]`).Length() == 0 {
		t.Error("a page without the form has no language links")
	}
}
