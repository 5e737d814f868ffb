package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"pcsupport/internal/auth"
	"pcsupport/internal/i18n"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

// fakeSessions is a signed-in person, without any sign-in.
type fakeSessions struct{ user auth.User }

// options gives New the fake as every part of sign-in and sessions.
func (f fakeSessions) options(o Options) Options {
	o.Users, o.Tokens, o.SignIn, o.Flash, o.Kept = f, f, f, f, f
	return o
}

func (f fakeSessions) CurrentUser(*http.Request) (auth.User, error) { return f.user, nil }
func (fakeSessions) TokenSource(http.ResponseWriter, *http.Request) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})
}
func (fakeSessions) StartSignIn(http.ResponseWriter, *http.Request, string, auth.SignInOptions) (string, error) {
	return "https://idp.example/authorize", nil
}
func (fakeSessions) FinishSignIn(http.ResponseWriter, *http.Request) (string, error) { return "/", nil }
func (fakeSessions) SignOut(http.ResponseWriter, *http.Request) error                { return nil }
func (fakeSessions) ProviderSignOutURL(*http.Request) string                         { return "" }
func (fakeSessions) AddFlash(http.ResponseWriter, *http.Request, []byte) error       { return nil }
func (fakeSessions) TakeFlash(http.ResponseWriter, *http.Request) []byte             { return nil }
func (fakeSessions) RefreshAfterRejection(http.ResponseWriter, *http.Request, string) error {
	return nil
}
func (fakeSessions) KeepFormValues(http.ResponseWriter, *http.Request, url.Values) error { return nil }
func (fakeSessions) TakeKeptFormValues(http.ResponseWriter, *http.Request) url.Values    { return nil }

// fakeProfiles is Partner Center in memory; it records the options of every call.
type fakeProfiles struct {
	mu      sync.Mutex
	profile pcclient.Profile
	err     error
	calls   []pcclient.CallOptions
}

func (f *fakeProfiles) GetSupportProfile(_ context.Context, o pcclient.CallOptions) (pcclient.Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, o)
	return f.profile, f.err
}

func (f *fakeProfiles) UpdateSupportProfile(_ context.Context, o pcclient.CallOptions, p pcclient.Profile) (pcclient.Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, o)
	if f.err != nil {
		return pcclient.Profile{}, f.err
	}
	f.profile = p
	return p, nil
}

type namesAsPaths struct{}

func (namesAsPaths) Path(name string) string { return name }

func newTestServer(t *testing.T) (*httptest.Server, *fakeProfiles) {
	profiles := &fakeProfiles{profile: pcclient.NewProfile(support.Contact{Email: "support@contoso.example", Telephone: "4255550100", Website: "www.contoso.example"})}
	h := New(fakeSessions{auth.User{Subject: "s", Name: "Ada", Username: "ada@contoso.example", TenantID: "tid"}}.options(Options{Profiles: profiles,
		Assets: namesAsPaths{}, BasePath: "/"}))
	e := echo.New()
	e.HTTPErrorHandler = h.HTTPErrorHandler
	h.Register(e.Group(""))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv, profiles
}

func get(t *testing.T, c *http.Client, u string, header ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc
}

func TestFrenchFromTheBrowserAndXLocale(t *testing.T) {
	srv, profiles := newTestServer(t)
	_, doc := get(t, srv.Client(), srv.URL+"/", "Accept-Language", "fr-FR,fr;q=0.9")
	if lang, _ := doc.Find("html").Attr("lang"); lang != "fr" {
		t.Errorf("html lang = %q", lang)
	}
	if got := doc.Find(`label[for="telephone"]`).Text(); !strings.Contains(got, "Téléphone du support") {
		t.Errorf("label = %q", got)
	}
	if got := doc.Find(`button[type="submit"]`).Last().Text(); got != "Enregistrer" {
		t.Errorf("button = %q", got)
	}
	if got := profiles.calls[len(profiles.calls)-1].Locale; got != "fr-FR" {
		t.Errorf("X-Locale sent to Partner Center = %q, want fr-FR", got)
	}
	_, doc = get(t, srv.Client(), srv.URL+"/", "Accept-Language", "en-GB")
	if got := doc.Find(`button[type="submit"]`).Last().Text(); got != "Save" {
		t.Errorf("English button = %q", got)
	}
	if got := profiles.calls[len(profiles.calls)-1].Locale; got != "en-US" {
		t.Errorf("X-Locale = %q, want en-US", got)
	}
}

func TestLanguageSwitchIsRemembered(t *testing.T) {
	srv, _ := newTestServer(t)
	jar := newJar()
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := get(t, client, srv.URL+"/lang?to=fr&next=%2F%3Ftab%3D1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?tab=1" {
		t.Fatalf("switch: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc := get(t, client, srv.URL+"/", "Accept-Language", "en-US")
	if lang, _ := doc.Find("html").Attr("lang"); lang != "fr" {
		t.Errorf("the choice was not remembered over Accept-Language: lang=%q", lang)
	}
	if doc.Find(`nav a[hreflang="en"]`).Length() != 1 || doc.Find(`nav [aria-current="true"]`).Text() != "Français" {
		t.Errorf("language switch in the page: %s", doc.Find("nav").Text())
	}
	resp, _ = get(t, client, srv.URL+"/lang?to=fr&next=%2F%2Fevil.example")
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
			e, f := explain(en, err, "c", step), explain(fr, err, "c", step)
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
	srv, profiles := newTestServer(t)
	form := url.Values{"email": {"pas une adresse"}, "telephone": {"4255550100"}, "website": {"www.contoso.example"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/save", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "fr")
	req.Header.Set("HX-Request", "true")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find("#email-error").Text(), "Saisissez une seule adresse e-mail") {
		t.Errorf("French field error: %d %q", resp.StatusCode, doc.Find("#email-error").Text())
	}
	if v, _ := doc.Find("#email").Attr("value"); v != "pas une adresse" {
		t.Errorf("typed value lost: %q", v)
	}
	if _, ok := doc.Find("#email").Attr("autofocus"); !ok {
		t.Error("focus does not go to the first field in error")
	}
	if len(profiles.calls) != 0 {
		t.Error("an invalid form reached Partner Center")
	}
}

func newJar() http.CookieJar {
	jar, _ := cookiejar.New(nil)
	return jar
}

// Saves of one partner wait for each other only so long; then the person is told, with their
// values kept, and nothing reaches Partner Center.
func TestSaveWaitingTooLongForOtherSaves(t *testing.T) {
	profiles := &fakeProfiles{profile: pcclient.NewProfile(support.Contact{Email: "support@contoso.example", Telephone: "4255550100", Website: "www.contoso.example"})}
	h := New(fakeSessions{auth.User{Subject: "s", TenantID: "tid"}}.options(Options{Profiles: profiles, Assets: namesAsPaths{}, BasePath: "/"}))
	h.tenantLockWait = 20 * time.Millisecond
	unlock, _ := h.tenantLocks.Lock(context.Background(), "tid")
	defer unlock()
	e := echo.New()
	h.Register(e.Group(""))
	form := url.Values{"email": {"support@contoso.example"}, "telephone": {"+1 425 555 0100"}, "website": {"www.contoso.example"}}
	req := httptest.NewRequest(http.MethodPost, "/save", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Other saves for your company") ||
		!strings.Contains(rec.Body.String(), `value="+1 425 555 0100"`) {
		t.Errorf("busy save: %d\n%s", rec.Code, rec.Body.String())
	}
	if len(profiles.calls) != 0 {
		t.Error("Partner Center was called")
	}
}

// With the session store down the person is not sent to sign in (that would fail too): they are
// told to try again shortly.
func TestSessionStoreDownIsNotSignedOut(t *testing.T) {
	o := fakeSessions{}.options(Options{Profiles: &fakeProfiles{}, Assets: namesAsPaths{}, BasePath: "/"})
	o.Users = downSessions{}
	h := New(o)
	e := echo.New()
	e.HTTPErrorHandler = h.HTTPErrorHandler
	h.Register(e.Group(""))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Your session cannot be read right now") {
		t.Errorf("store down: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

type downSessions struct{ fakeSessions }

func (downSessions) CurrentUser(*http.Request) (auth.User, error) {
	return auth.User{}, fmt.Errorf("read session: %w", auth.ErrSessionStoreUnavailable)
}
