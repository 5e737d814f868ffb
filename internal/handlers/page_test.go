package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/oauth2"

	"pcsupport/internal/auth"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

// The page shows the profile in a form, with what it loaded recorded in the form.
func TestShowProfile(t *testing.T) {
	tb := newTestbed(t)
	rec, doc := tb.request(http.MethodGet, "/", nil)
	if rec.Code != http.StatusOK || doc.Find(`input[name="telephone"]`).AttrOr("value", "") != "4255550100" {
		t.Fatalf("page: %d, telephone %q", rec.Code, doc.Find(`input[name="telephone"]`).AttrOr("value", ""))
	}
	loaded, ok := decodeLoaded(doc.Find(`input[name="loaded"]`).AttrOr("value", ""))
	if !ok || loaded.Telephone != "4255550100" || !validSubmissionID(doc.Find(`input[name="submission"]`).AttrOr("value", "")) {
		t.Errorf("the form does not record what it loaded (%v %v) or has no submission id", loaded, ok)
	}
	if got := text(doc.Find("header")); !strings.Contains(got, "Ada Admin") || !strings.Contains(got, "tid-contoso") {
		t.Errorf("header %q", got)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
}

// Values kept across a new sign-in come back in the form, with a line saying so, and a change a
// colleague made meanwhile is still caught on save.
func TestShowProfileWithKeptValues(t *testing.T) {
	tb := newTestbed(t)
	tb.auth.kept = url.Values{"email": {"helpdesk@contoso.example"}, "telephone": {"4255550100"}, "website": {"www.contoso.example"},
		"loaded": {encodeLoaded(support.Contact{Email: "support@contoso.example", Telephone: "4255550100", Website: "www.contoso.example"})}}
	_, doc := tb.request(http.MethodGet, "/", nil)
	if doc.Find(`input[name="email"]`).AttrOr("value", "") != "helpdesk@contoso.example" || !strings.Contains(text(doc.Find("#notice")), "Your values are back") {
		t.Fatalf("kept values not shown: %q", text(doc.Find("main")))
	}
	tb.pc.set("care@contoso.example", "4255550100", "www.contoso.example")
	form := url.Values{}
	doc.Find(`#profile form input`).Each(func(_ int, s *goquery.Selection) { form.Set(s.AttrOr("name", ""), s.AttrOr("value", "")) })
	rec, _ := tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
	if rec.Code != http.StatusConflict {
		t.Errorf("saving kept values over a colleague's change: %d, want 409", rec.Code)
	}
	// Kept values without a readable record of what they were loaded from are not shown.
	tb.auth.kept = url.Values{"email": {"x@contoso.example"}}
	if _, doc = tb.request(http.MethodGet, "/", nil); doc.Find(`input[name="email"]`).AttrOr("value", "") == "x@contoso.example" {
		t.Error("kept values without their loaded record were shown")
	}
}

// A profile that cannot be loaded shows no form (an empty one could be saved over the real
// values), says why, and offers to load again.
func TestLoadFailures(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		tokenErr error
		status   int
		text     []string
		location string
	}{
		{name: "Partner Center unavailable", err: &pcclient.Error{Kind: pcclient.KindUnavailable, Status: 503, CorrelationID: "corr-1"},
			status: 503, text: []string{"could not be loaded", "not answering", "corr-1"}},
		{name: "throttled", err: &pcclient.Error{Kind: pcclient.KindThrottled, Status: 429, RetryAfter: 30e9},
			status: 429, text: []string{"asks your company to wait until", " UTC. Reload the page after that time."}},
		{name: "no profile yet", err: &pcclient.Error{Kind: pcclient.KindNotFound, Status: 404, Code: "1000"},
			status: 404, text: []string{"no support profile"}},
		{name: "MFA required", err: &pcclient.Error{Kind: pcclient.KindMFARequired, Status: 401, Code: "900421"},
			status: 303, location: "/auth/signin?mfa=1&next=%2F"},
		{name: "sign-in required", tokenErr: fmt.Errorf("x: %w", auth.ErrSignInRequired),
			status: 303, location: "/auth/signin?next=%2F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t)
			tb.pc.getErrs = []error{tt.err}
			tb.auth.tokenErr = tt.tokenErr
			rec, doc := tb.request(http.MethodGet, "/", nil)
			if rec.Code != tt.status || rec.Header().Get("Location") != tt.location {
				t.Errorf("%d to %q, want %d to %q", rec.Code, rec.Header().Get("Location"), tt.status, tt.location)
			}
			if tt.location != "" {
				return
			}
			if doc.Find("input[name=telephone]").Length() != 0 {
				t.Error("a form is shown")
			}
			for _, want := range tt.text {
				if !strings.Contains(text(doc.Find("main")), want) {
					t.Errorf("page lacks %q: %q", want, text(doc.Find("main")))
				}
			}
			if doc.Find(`main a[href="/"]`).Length() == 0 {
				t.Error("no way to load the page again")
			}
		})
	}
}

// Signed out, the page and a save lead to sign-in and back.
func TestSignedOutVisitorsAreSentToSignIn(t *testing.T) {
	tb := newTestbed(t)
	tb.auth.user = nil
	rec, _ := tb.request(http.MethodGet, "/?x=1", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/auth/signin?next=%2F%3Fx%3D1" {
		t.Errorf("page: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	rec, _ = tb.request(http.MethodPost, "/save", url.Values{"email": {"x"}}, "HX-Request", "true")
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("HX-Redirect") != "/auth/signin?next=%2F" {
		t.Errorf("htmx save: %d, HX-Redirect %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
}

// The sign-in routes: to the provider and back, with each failure explained.
func TestSignInRoutes(t *testing.T) {
	tb := newTestbed(t)
	rec, _ := tb.request(http.MethodGet, "/auth/signin?next=%2Fhistory&mfa=1", nil)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://idp.example/authorize?state=s" ||
		tb.auth.lastStart.returnTo != "/history" || !tb.auth.lastStart.opts.RequireMFA {
		t.Errorf("start: %d to %q, %+v", rec.Code, rec.Header().Get("Location"), tb.auth.lastStart)
	}
	tb.auth.startErr = fmt.Errorf("discover: %w", auth.ErrSignInProviderUnavailable)
	rec, doc := tb.request(http.MethodGet, "/auth/signin", nil)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(text(doc.Find("main")), "cannot be reached") {
		t.Errorf("provider down: %d %q", rec.Code, text(doc.Find("main")))
	}

	callbacks := []struct {
		name   string
		err    error
		status int
		text   string
	}{
		{"success", nil, http.StatusSeeOther, ""},
		{"consent missing", &auth.ProviderError{Code: "invalid_client", Description: "AADSTS65001: consent"}, 403, "administrator has to approve"},
		{"cancelled", &auth.ProviderError{Code: "access_denied"}, 403, "cancelled"},
		{"MFA", &auth.ProviderError{Code: "interaction_required", Description: "AADSTS50076: MFA"}, 403, "multi-factor"},
		{"conditional access", &auth.ProviderError{Code: "access_denied", Description: "AADSTS53003: blocked"}, 403, "Conditional Access"},
		{"state used", auth.ErrSignInState, 400, "already used"},
		{"code refused", fmt.Errorf("exchange: %w", &oauth2.RetrieveError{ErrorCode: "invalid_grant"}), 400, "could not be completed"},
		{"provider failed", errors.New("verify ID token: boom"), 502, "could not be completed"},
	}
	signedIn := tb.auth.user
	tb.auth.user = nil // a callback comes before the session
	for _, cb := range callbacks {
		tb.auth.finishTo, tb.auth.finishErr = "/history", cb.err
		rec, doc := tb.request(http.MethodGet, "/auth/callback?state=s&code=c", nil)
		if rec.Code != cb.status || !strings.Contains(text(doc.Find("main")), cb.text) {
			t.Errorf("callback %s: %d %q, want %d with %q", cb.name, rec.Code, text(doc.Find("main")), cb.status, cb.text)
		}
		if cb.err == nil && rec.Header().Get("Location") != "/history" {
			t.Errorf("callback success went to %q", rec.Header().Get("Location"))
		}
		if cb.err != nil && doc.Find(`main a[href^="/auth/signin"]`).Length() == 0 {
			t.Errorf("callback %s: no way to try again", cb.name)
		}
	}
	// A tab whose sign-in another tab overwrote, after that one finished: nothing left to do.
	tb.auth.user, tb.auth.finishErr = signedIn, auth.ErrSignInState
	if rec, _ := tb.request(http.MethodGet, "/auth/callback?state=s&code=c", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Errorf("callback with a lost state, signed in: %d to %q, want the page", rec.Code, rec.Header().Get("Location"))
	}
}

// Sign-out ends the session and leads to the signed-out page, or first to the provider's.
func TestSignOut(t *testing.T) {
	tb := newTestbed(t)
	rec, _ := tb.request(http.MethodPost, "/auth/signout", url.Values{})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/auth/signed-out" || tb.auth.signOuts != 1 {
		t.Errorf("sign-out: %d to %q, %d sign-outs", rec.Code, rec.Header().Get("Location"), tb.auth.signOuts)
	}
	_, doc := tb.request(http.MethodGet, "/auth/signed-out", nil)
	if !strings.Contains(text(doc.Find("main")), "signed out") || doc.Find(`main a[href="/auth/signin?next=%2F"]`).Length() != 1 {
		t.Errorf("signed-out page: %q", text(doc.Find("main")))
	}
	tb = newTestbed(t)
	tb.auth.endSession = "https://idp.example/logout?post_logout_redirect_uri=x"
	if rec, _ := tb.request(http.MethodPost, "/auth/signout", url.Values{}); rec.Header().Get("Location") != tb.auth.endSession {
		t.Errorf("sign-out of the provider too went to %q", rec.Header().Get("Location"))
	}
}

// Every error becomes a page in the person's language (or, for htmx, a message in the page).
func TestErrorPages(t *testing.T) {
	tb := newTestbed(t)
	rec, doc := tb.request(http.MethodGet, "/no/such/page", nil)
	if rec.Code != http.StatusNotFound || !strings.Contains(text(doc.Find("main")), "There is no page here") || doc.Find(`main a[href="/"]`).Length() == 0 {
		t.Errorf("404: %d %q", rec.Code, text(doc.Find("main")))
	}
	_, doc = tb.request(http.MethodGet, "/no/such/page", nil, "Accept-Language", "fr")
	if !strings.Contains(text(doc.Find("main")), "Il n’y a pas de page ici") {
		t.Errorf("404 in French: %q", text(doc.Find("main")))
	}
	rec, doc = tb.request(http.MethodPost, "/save", url.Values{csrfField: {"wrong"}}, "HX-Request", "true")
	if rec.Code != http.StatusForbidden || rec.Header().Get("HX-Retarget") != "#alerts" || !strings.Contains(text(doc.Selection), "expired") {
		t.Errorf("htmx CSRF refusal: %d, %q %q", rec.Code, rec.Header().Get("HX-Retarget"), text(doc.Selection))
	}
}
