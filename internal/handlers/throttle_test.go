package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/pcclient"
)

// Partner Center asks the partner to wait two minutes: the save says until when, in the
// person's time zone when the browser told it, and Save stays off until then, after a reload too;
// a save sent meanwhile (another tab, no JavaScript) is not passed on.
func TestThrottledSaveSaysUntilWhenAndTurnsSaveOff(t *testing.T) {
	tb := newTestbed(t)
	tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindThrottled, Status: 429, RetryAfter: 2 * time.Minute}}
	paris := []string{"Cookie", timeZoneCookie + "=Europe/Paris; " + csrfCookie + "=" + testCSRF}
	before := time.Now()
	rec, doc := tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+1 425 555 0131"), append(paris, "HX-Request", "true")...)
	until := before.Add(2 * time.Minute).In(mustZone(t, "Europe/Paris"))
	notice := text(doc.Find("#notice"))
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(notice, "wait until "+until.Format("15:04")) ||
		strings.Contains(notice, "UTC") || strings.Contains(notice, "press Save") {
		t.Errorf("throttled save: %d %q; want the time of day in Paris, and no advice to press Save", rec.Code, notice)
	}
	if !saveIsOff(doc) {
		t.Error("Save is still on after Partner Center asked to wait")
	}
	// The browser turns Save on again no earlier than the app accepts a save (a time in whole
	// seconds, rounded up: rounded down, a click in the last second was refused).
	at, err := time.Parse(time.RFC3339, doc.Find(`#profile form button[type="submit"]`).AttrOr("data-enable-at", ""))
	if wait, _ := tb.h.throttles.waitUntil(historyTenant(signedInAda), time.Now()); err != nil || at.Before(wait) {
		t.Errorf("Save turns on at %v (%v), before the wait ends at %v", at, err, wait)
	}

	// A reload: the page says it again, Save off; without the zone the time says UTC.
	_, doc = tb.request(http.MethodGet, "/", nil)
	if n := text(doc.Find("#notice")); !saveIsOff(doc) || !strings.Contains(n, before.Add(2*time.Minute).UTC().Format("15:04")+" UTC") {
		t.Errorf("after a reload: Save off %v, notice %q", saveIsOff(doc), n)
	}

	// A save sent anyway is answered without calling Partner Center.
	puts := tb.pc.puts
	rec, _ = tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+1 425 555 0132"), "HX-Request", "true")
	if rec.Code != http.StatusTooManyRequests || tb.pc.puts != puts || rec.Header().Get("Retry-After") == "" {
		t.Errorf("a save while waiting: %d, %d more PUTs, Retry-After %q", rec.Code, tb.pc.puts-puts, rec.Header().Get("Retry-After"))
	}
	if got := tb.auditOutcomes(); got[len(got)-1] != "throttled" {
		t.Errorf("audit outcomes %v, want the last throttled", got)
	}

	// Once the time has passed, Save is on again.
	tb.h.throttles = throttles{}
	if _, doc = tb.request(http.MethodGet, "/", nil); saveIsOff(doc) || doc.Find("#notice").Length() != 0 {
		t.Errorf("after the wait: Save off %v, notice %q", saveIsOff(doc), text(doc.Find("#notice")))
	}
}

func saveIsOff(doc interface {
	Find(string) *goquery.Selection
}) bool {
	b := doc.Find(`#profile form button[type="submit"]`).First()
	_, off := b.Attr("disabled")
	return b.Length() == 1 && off && b.AttrOr("data-enable-at", "") != ""
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
