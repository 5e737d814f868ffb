package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/devidp"
)

// Two people load the form; one saves; the other's save is not applied and shows, field by
// field, what they loaded, what is there now and what they typed. Saving theirs over it keeps the
// colleague's change to the field they did not touch.
func TestConflictIsShownAndNothingIsRevertedUnseen(t *testing.T) {
	app := startApp(t)
	alice, bob := newBrowser(t), newBrowser(t)
	aliceForm := formValues(alice.signIn(app, "admin"))
	bobForm := formValues(bob.signIn(app, "admin"))
	email, tel, web := app.dev.emu.Profile(devidp.TenantID)

	aliceForm.Set("telephone", "+1 425 555 0101")
	if resp, _ := alice.post(app.url+"save", aliceForm, "HX-Request", "true"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first save: %d", resp.StatusCode)
	}
	bobForm.Set("website", "https://support.contoso-partner.example")
	resp, frag := bob.post(app.url+"save", bobForm, "HX-Request", "true")
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("second save answered %d, want 409", resp.StatusCode)
	}
	if gotEmail, gotTel, gotWeb := app.dev.emu.Profile(devidp.TenantID); gotEmail != email || gotTel != "+1 425 555 0101" || gotWeb != web {
		t.Fatalf("the conflicting save changed Partner Center: %s %s %s", gotEmail, gotTel, gotWeb)
	}
	rows := map[string][]string{}
	frag.Find("table tbody tr").Each(func(_ int, r *goquery.Selection) {
		cells := []string{}
		r.Find("th, td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, text(c)) })
		rows[cells[0]] = cells[1:]
	})
	if r := rows["Telephone"]; len(r) != 3 || r[0] != tel || !strings.HasPrefix(r[1], "+1 425 555 0101") || r[2] != tel {
		t.Errorf("telephone row (loaded, now, typed) = %q", r)
	}
	if r := rows["Website"]; len(r) != 3 || r[0] != web || r[1] != web || !strings.HasPrefix(r[2], "https://support.contoso-partner.example") {
		t.Errorf("website row = %q", r)
	}
	if _, ok := rows["Email"]; ok {
		t.Error("a field nobody changed is listed")
	}
	if frag.Find(`a:contains("Take the current values and start again")`).Length() != 1 {
		t.Error("no way to start again from the current values")
	}

	// "Save my values over theirs": the form now holds Bob's change on top of the current values.
	again := formValues(frag)
	if again.Get("telephone") != "+1 425 555 0101" || again.Get("website") != "https://support.contoso-partner.example" {
		t.Fatalf("conflict form holds %v", again)
	}
	resp, frag = bob.post(app.url+"save", again, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("save over: %d %s", resp.StatusCode, text(frag.Find("#notice")))
	}
	if _, gotTel, gotWeb := app.dev.emu.Profile(devidp.TenantID); gotTel != "+1 425 555 0101" || gotWeb != "https://support.contoso-partner.example" {
		t.Errorf("after saving over: telephone %q (Alice's must stay), website %q", gotTel, gotWeb)
	}
}

// A double click or a resubmitted form sends one PUT, and both answers say it was saved.
func TestRepeatedSubmissionSavesOnce(t *testing.T) {
	app := startApp(t)
	b := newBrowser(t)
	form := formValues(b.signIn(app, "admin"))
	form.Set("telephone", "+33 6 12 34 56 78")
	before := app.dev.emu.Stats()
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, frag := b.post(app.url+"save", form, "HX-Request", "true")
			statuses[i] = resp.StatusCode
			if !strings.Contains(text(frag.Find("#notice")), "Saved") {
				t.Errorf("submission %d: %q", i, text(frag.Find("#notice")))
			}
		}()
	}
	wg.Wait()
	if puts := app.dev.emu.Stats().Puts - before.Puts; puts != 1 {
		t.Errorf("%d PUTs for one form submitted three times (statuses %v)", puts, statuses)
	}
	// Later, the same form again (back button and resend): still no second PUT.
	resp, _ := b.post(app.url+"save", form, "HX-Request", "true")
	if puts := app.dev.emu.Stats().Puts - before.Puts; puts != 1 || resp.StatusCode != http.StatusOK {
		t.Errorf("resubmitted form: %d, %d PUTs", resp.StatusCode, puts)
	}
}

// At least 50 signed-in sessions save conflicting edits at once: no 5xx, every save applied or
// reported as a conflict, and Partner Center ends with the applied one.
func TestManySessionsSavingConflictingEdits(t *testing.T) {
	const sessions = 50
	app := startApp(t, "--log-level", "warn")
	browsers := make([]*browser, sessions)
	forms := make([]url.Values, sessions)
	for i := range browsers {
		browsers[i] = newBrowser(t)
		forms[i] = formValues(browsers[i].signIn(app, "admin"))
		forms[i].Set("telephone", fmt.Sprintf("+1 425 555 %04d", i))
	}
	type outcome struct {
		status int
		notice string
	}
	outcomes := make([]outcome, sessions)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, frag := browsers[i].post(app.url+"save", forms[i], "HX-Request", "true")
			outcomes[i] = outcome{resp.StatusCode, text(frag.Find("#notice"))}
		}()
	}
	close(start)
	wg.Wait()

	var applied []string
	for i, o := range outcomes {
		switch {
		case o.status == http.StatusOK && strings.Contains(o.notice, "Saved"):
			applied = append(applied, forms[i].Get("telephone"))
		case o.status == http.StatusConflict && strings.Contains(o.notice, "changed the support profile"):
		default:
			t.Errorf("session %d: %d %q", i, o.status, o.notice)
		}
	}
	if len(applied) != 1 {
		t.Fatalf("%d saves applied from the same loaded version, want exactly 1", len(applied))
	}
	if _, tel, _ := app.dev.emu.Profile(devidp.TenantID); tel != applied[0] {
		t.Errorf("Partner Center holds %q, the applied save was %q", tel, applied[0])
	}
}
