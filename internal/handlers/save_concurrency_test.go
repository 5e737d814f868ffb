package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/pcclient"
)

// slowReads answers each read of the profile a while after reading it, as a call over the
// network does, so that saves sent at once would overlap between their check and their PUT.
type slowReads struct{ *scriptedProfiles }

func (s slowReads) GetSupportProfile(ctx context.Context, o pcclient.CallOptions) (pcclient.Profile, error) {
	p, err := s.scriptedProfiles.GetSupportProfile(ctx, o)
	time.Sleep(5 * time.Millisecond)
	return p, err
}

// saveConcurrently posts each form with htmx, all at once, and returns each answer's status and
// notice. Unlike testbed.request it may run on any goroutine.
func saveConcurrently(tb *testbed, forms []url.Values) (statuses []int, notices []string) {
	statuses, notices = make([]int, len(forms)), make([]string, len(forms))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, f := range forms {
		f.Set(csrfField, testCSRF)
		body := f.Encode()
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/save", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("HX-Request", "true")
			req.AddCookie(&http.Cookie{Name: csrfCookie, Value: testCSRF})
			rec := httptest.NewRecorder()
			<-start
			tb.e.ServeHTTP(rec, req)
			statuses[i] = rec.Code
			if doc, err := goquery.NewDocumentFromReader(bytes.NewReader(rec.Body.Bytes())); err == nil {
				notices[i] = text(doc.Find("#notice"))
			}
		})
	}
	close(start)
	wg.Wait()
	return statuses, notices
}

// A double click or a resubmitted form sends one PUT, and every answer says it was saved.
func TestRepeatedSubmissionsAtOnceSaveOnce(t *testing.T) {
	tb := newTestbed(t)
	tb.h.profiles = slowReads{tb.pc}
	form := tb.saveForm("telephone", "+33 6 12 34 56 78")
	statuses, notices := saveConcurrently(tb, []url.Values{form, form, form})
	for i := range statuses {
		if statuses[i] != http.StatusOK || !strings.Contains(notices[i], "Saved") {
			t.Errorf("submission %d: %d %q", i, statuses[i], notices[i])
		}
	}
	if tb.pc.puts != 1 {
		t.Errorf("%d PUTs for one form submitted three times at once", tb.pc.puts)
	}
	// Later, the same form again (back button and resend): still no second PUT.
	if rec, _ := tb.request(http.MethodPost, "/save", form, "HX-Request", "true"); rec.Code != http.StatusOK || tb.pc.puts != 1 {
		t.Errorf("resubmitted form: %d, %d PUTs", rec.Code, tb.pc.puts)
	}
}

// 50 people save conflicting edits from the same loaded values at once: the partner's saves take
// turns, so exactly one applies and every other is shown as a conflict; nothing fails.
func TestManySavesFromTheSameLoadedValues(t *testing.T) {
	const people = 50
	tb := newTestbed(t)
	tb.h.profiles = slowReads{tb.pc}
	forms := make([]url.Values, people)
	for i := range forms {
		forms[i] = tb.saveForm("telephone", fmt.Sprintf("+1 425 555 %04d", i))
	}
	statuses, notices := saveConcurrently(tb, forms)
	var applied []string
	for i := range forms {
		switch {
		case statuses[i] == http.StatusOK && strings.Contains(notices[i], "Saved"):
			applied = append(applied, forms[i].Get("telephone"))
		case statuses[i] == http.StatusConflict && strings.Contains(notices[i], "The support profile changed since you opened this page"):
		default:
			t.Errorf("person %d: %d %q", i, statuses[i], notices[i])
		}
	}
	if len(applied) != 1 {
		t.Fatalf("%d saves applied from the same loaded values, want exactly 1", len(applied))
	}
	if got := tb.pc.current().Telephone; got != applied[0] || tb.pc.puts != 1 {
		t.Errorf("Partner Center holds %q after %d PUTs; the applied save was %q", got, tb.pc.puts, applied[0])
	}
}
