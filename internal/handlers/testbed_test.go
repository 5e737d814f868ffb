package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

// testbed is the handlers behind Echo with the app's CSRF check and error handler, a Partner
// Center in memory (scriptedProfiles) and a sign-in with state (fakeAuth): every behaviour of a
// page or a save can be tested in microseconds, without a provider or a browser.
type testbed struct {
	t     *testing.T
	e     *echo.Echo
	h     *Handlers
	pc    *scriptedProfiles
	auth  *fakeAuth
	audit *bytes.Buffer
	saves []string // outcomes counted for /metrics
	mu    sync.Mutex
}

const testCSRF = "test-csrf-token"

var signedInAda = auth.User{Subject: "sub-ada", ObjectID: "oid-ada", TenantID: "tid-contoso", Name: "Ada Admin",
	Username: "ada@contoso.example", AMR: []string{"pwd", "mfa"}}

func newTestbed(t *testing.T, configure ...func(*Options)) *testbed {
	t.Helper()
	u := signedInAda
	tb := &testbed{t: t, pc: &scriptedProfiles{profile: pcclient.NewProfile(support.Contact{Email: "support@contoso.example", Telephone: "4255550100", Website: "www.contoso.example"})},
		auth: &fakeAuth{user: &u}, audit: &bytes.Buffer{}}
	o := Options{Profiles: tb.pc, Users: tb.auth, Tokens: tb.auth, SignIn: tb.auth, Flash: tb.auth, Kept: tb.auth, Roles: tb.auth,
		Assets: namesAsPaths{}, BasePath: "/", Logger: slog.New(slog.DiscardHandler),
		Audit: slog.New(slog.NewJSONHandler(tb.audit, nil)),
		ObserveSave: func(o string) {
			tb.mu.Lock()
			tb.saves = append(tb.saves, o)
			tb.mu.Unlock()
		}}
	for _, c := range configure {
		c(&o)
	}
	tb.h = New(o)
	tb.e = echo.New()
	tb.e.HTTPErrorHandler = tb.h.HTTPErrorHandler
	tb.h.Routes(tb.e, "/", Operations{}, "")
	return tb
}

// request sends method to path, with form as a url-encoded body, and the CSRF cookie and token
// a browser would have. headers are name, value pairs.
func (tb *testbed) request(method, path string, form url.Values, headers ...string) (*httptest.ResponseRecorder, *goquery.Document) {
	tb.t.Helper()
	var req *http.Request
	if form != nil {
		if form.Get(csrfField) == "" && form[csrfField] == nil {
			form.Set(csrfField, testCSRF)
		}
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: testCSRF})
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	tb.e.ServeHTTP(rec, req)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		tb.t.Fatal(err)
	}
	return rec, doc
}

// saveForm is the form as the page rendered it from the profile, with the changes applied.
func (tb *testbed) saveForm(changes ...string) url.Values {
	p := tb.pc.current()
	f := url.Values{"email": {p.Email}, "telephone": {p.Telephone}, "website": {p.Website},
		"loaded": {encodeLoaded(p.Contact)}, "submission": {newSubmissionID()}}
	for i := 0; i+1 < len(changes); i += 2 {
		f.Set(changes[i], changes[i+1])
	}
	return f
}

// auditOutcomes are the outcomes of the audit records written so far.
func (tb *testbed) auditOutcomes() []string {
	var out []string
	for _, rec := range tb.auditRecords() {
		out = append(out, rec["outcome"].(string))
	}
	return out
}

func (tb *testbed) auditRecords() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(tb.audit.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["audit"] == "support_profile_save" {
			out = append(out, rec)
		}
	}
	return out
}

// scriptedProfiles is Partner Center in memory. Each call takes the next scripted error for its
// method, if any; a PUT whose error is marked applied stores the profile before failing (its
// answer was lost).
type scriptedProfiles struct {
	mu       sync.Mutex
	profile  pcclient.Profile
	getErrs  []error
	putErrs  []error
	applied  bool // the next PUT error comes after the change was stored
	gets     int
	puts     int
	requests []pcclient.CallOptions
}

func (p *scriptedProfiles) current() pcclient.Profile {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.profile
}

func (p *scriptedProfiles) set(email, telephone, website string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.profile = p.profile.WithContact(support.Contact{Email: email, Telephone: telephone, Website: website})
}

func (p *scriptedProfiles) GetSupportProfile(_ context.Context, o pcclient.CallOptions) (pcclient.Profile, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gets++
	p.requests = append(p.requests, o)
	if _, err := o.Token.Token(); err != nil {
		return pcclient.Profile{}, err
	}
	if len(p.getErrs) > 0 {
		err := p.getErrs[0]
		p.getErrs = p.getErrs[1:]
		if err != nil {
			return pcclient.Profile{}, err
		}
	}
	return p.profile, nil
}

func (p *scriptedProfiles) UpdateSupportProfile(_ context.Context, o pcclient.CallOptions, pr pcclient.Profile) (pcclient.Profile, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.puts++
	p.requests = append(p.requests, o)
	if _, err := o.Token.Token(); err != nil {
		return pcclient.Profile{}, err
	}
	if len(p.putErrs) > 0 {
		err := p.putErrs[0]
		p.putErrs = p.putErrs[1:]
		if err != nil {
			if p.applied {
				p.profile = pr
			}
			return pcclient.Profile{}, err
		}
	}
	p.profile = pr
	return pr, nil
}

// fakeAuth is sign-in and sessions with state: who is signed in (or why nobody is), the one-time
// message, kept values and their owner, the token and its refreshes.
type fakeAuth struct {
	mu     sync.Mutex
	user   *auth.User
	people map[string]auth.User // when set, the person the request's X-Person header names is signed in
	// roleRefused is RoleNotes' note: a save was refused for the person's role.
	roleRefused bool
	userErr     error // when user is nil: default auth.ErrNotSignedIn
	tokenErr    error
	// tokenRefusedFrom makes the token source's n-th call and later ones fail as a refused
	// refresh would (0: never): a token that expired between two calls of one request.
	tokenRefusedFrom int
	tokenCalls       int
	refreshErr       error
	refreshes        int
	flash            []byte
	kept             url.Values
	keepErr          error
	signOuts         int
	startErr         error
	finishTo         string
	finishErr        error
	endSession       string // where ProviderSignOutURL sends people
	lastStart        struct {
		returnTo string
		opts     auth.SignInOptions
	}
}

func (f *fakeAuth) CurrentUser(r *http.Request) (auth.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.people != nil {
		return f.people[r.Header.Get("X-Person")], nil
	}
	if f.user == nil {
		if f.userErr != nil {
			return auth.User{}, f.userErr
		}
		return auth.User{}, auth.ErrNotSignedIn
	}
	return *f.user, nil
}

func (f *fakeAuth) TokenSource(http.ResponseWriter, *http.Request) oauth2.TokenSource {
	return tokenFunc(func() (*oauth2.Token, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.tokenErr != nil {
			return nil, f.tokenErr
		}
		if f.tokenCalls++; f.tokenRefusedFrom > 0 && f.tokenCalls >= f.tokenRefusedFrom {
			return nil, fmt.Errorf("refresh token refused: %w", auth.ErrSignInRequired)
		}
		return &oauth2.Token{AccessToken: "access-" + string(rune('0'+f.refreshes))}, nil
	})
}

type tokenFunc func() (*oauth2.Token, error)

func (t tokenFunc) Token() (*oauth2.Token, error) { return t() }

func (f *fakeAuth) RefreshAfterRejection(http.ResponseWriter, *http.Request, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refreshErr != nil {
		return f.refreshErr
	}
	f.refreshes++
	return nil
}

func (f *fakeAuth) StartSignIn(_ http.ResponseWriter, _ *http.Request, returnTo string, o auth.SignInOptions) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastStart.returnTo, f.lastStart.opts = returnTo, o
	if f.startErr != nil {
		return "", f.startErr
	}
	return "https://idp.example/authorize?state=s", nil
}

func (f *fakeAuth) FinishSignIn(http.ResponseWriter, *http.Request) (string, error) {
	return f.finishTo, f.finishErr
}

func (f *fakeAuth) SignOut(http.ResponseWriter, *http.Request) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signOuts++
	f.user = nil
	return nil
}

func (f *fakeAuth) ProviderSignOutURL(*http.Request) string { return f.endSession }

func (f *fakeAuth) AddFlash(_ http.ResponseWriter, _ *http.Request, v []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flash = v
	return nil
}

func (f *fakeAuth) TakeFlash(http.ResponseWriter, *http.Request) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.flash
	f.flash = nil
	return v
}

func (f *fakeAuth) KeepFormValues(_ http.ResponseWriter, _ *http.Request, v url.Values) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keepErr != nil {
		return f.keepErr
	}
	f.kept = v
	return nil
}

func (f *fakeAuth) TakeKeptFormValues(http.ResponseWriter, *http.Request) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.kept
	f.kept = nil
	return v
}

func (f *fakeAuth) RememberRoleRefusal(http.ResponseWriter, *http.Request) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roleRefused = true
	return nil
}

func (f *fakeAuth) RoleRefused(*http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.roleRefused
}

func (f *fakeAuth) ForgetRoleRefusal(http.ResponseWriter, *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roleRefused = false
}

// liveTestbed is the testbed behind a real server, as cmd/web runs the handlers: for what meets
// the connection (exports' deadlines and buffers) or keeps cookies across requests. Its client
// keeps cookies and holds the CSRF cookie a browser would have.
type liveTestbed struct {
	t      *testing.T
	url    string // ends in "/"
	client *http.Client
}

// serve starts the testbed's handlers behind a server; configure, when given, sets the server up
// before it starts.
func (tb *testbed) serve(configure ...func(*httptest.Server)) *liveTestbed {
	tb.t.Helper()
	srv := httptest.NewUnstartedServer(tb.e)
	for _, c := range configure {
		c(srv)
	}
	srv.Start()
	tb.t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: csrfCookie, Value: testCSRF, Path: "/"}})
	return &liveTestbed{t: tb.t, url: srv.URL + "/", client: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get asks for path with the header pairs given, and reads the answer as HTML.
func (l *liveTestbed) get(path string, header ...string) (*http.Response, *goquery.Document) {
	l.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, l.url+path, nil)
	return l.do(req, header...)
}

// post sends form to path as a browser would, with the CSRF token; htmx when the headers say so.
func (l *liveTestbed) post(path string, form url.Values, header ...string) (*http.Response, *goquery.Document) {
	l.t.Helper()
	if form.Get(csrfField) == "" {
		form.Set(csrfField, testCSRF)
	}
	req, _ := http.NewRequest(http.MethodPost, l.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return l.do(req, header...)
}

func (l *liveTestbed) do(req *http.Request, header ...string) (*http.Response, *goquery.Document) {
	l.t.Helper()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := l.client.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		l.t.Fatal(err)
	}
	return resp, doc
}
