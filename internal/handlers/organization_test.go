package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/auth"
	"pcsupport/internal/pcclient"
)

// scriptedOrganizations is Partner Center's organization profile in memory: it answers profile
// or err, after release is closed when it is set, and records every call.
type scriptedOrganizations struct {
	mu      sync.Mutex
	profile pcclient.OrganizationProfile
	err     error
	release chan struct{} // when set, calls wait for it to close
	started chan struct{} // when set, told of each call as it starts
	calls   []pcclient.CallOptions
}

func (s *scriptedOrganizations) GetOrganizationProfile(_ context.Context, o pcclient.CallOptions) (pcclient.OrganizationProfile, error) {
	s.mu.Lock()
	s.calls = append(s.calls, o)
	release, started := s.release, s.started
	s.mu.Unlock()
	if started != nil {
		select {
		case started <- struct{}{}:
		default: // nobody is waiting for it
		}
	}
	if release != nil {
		<-release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return pcclient.OrganizationProfile{}, s.err
	}
	return s.profile, nil
}

func (s *scriptedOrganizations) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var contosoOrganization = pcclient.OrganizationProfile{CompanyName: "Contoso Partner", Domain: "contoso.example", Country: "US"}

// withOrganizations is a testbed whose Partner Center also answers the organization profile, on
// a clock the test moves.
func withOrganizations(t *testing.T, orgs *scriptedOrganizations) (*testbed, *testClock) {
	t.Helper()
	tb := newTestbed(t, func(o *Options) { o.Organizations = orgs })
	clock := &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	tb.h.organizations.now = clock.Now
	return tb, clock
}

// view loads the page and waits for what it started in the background.
func (tb *testbed) view() (summary, account string) {
	tb.t.Helper()
	rec, doc := tb.request(http.MethodGet, "/", nil)
	if rec.Code != http.StatusOK {
		tb.t.Fatalf("page: %d", rec.Code)
	}
	tb.h.organizations.wait()
	return text(doc.Find("header details summary")), text(doc.Find("header details"))
}

// The header names the company whose profile this is once Partner Center has told its name (the
// page after the first one), and the tenant id until then; the tenant id is always one step
// away, in the disclosure, for support.
func TestHeaderNamesTheCompanyOnceKnown(t *testing.T) {
	tb, _ := withOrganizations(t, &scriptedOrganizations{profile: contosoOrganization})
	summary, account := tb.view()
	if !strings.Contains(summary, "tid-contoso") || strings.Contains(summary, "Contoso Partner") || !strings.Contains(account, "ada@contoso.example") {
		t.Errorf("first page: the header says %q (%q), want the tenant id", summary, account)
	}
	summary, account = tb.view()
	if !strings.Contains(summary, "Contoso Partner") || !strings.Contains(summary, "contoso.example") || strings.Contains(summary, "tid-contoso") {
		t.Errorf("once known: the header says %q, want the company and its domain", summary)
	}
	if !strings.Contains(account, "tid-contoso") || !strings.Contains(account, "ada@contoso.example") {
		t.Errorf("the tenant id and user name are not one step away: %q", account)
	}
	// Without an organization service the header has the tenant id, as before.
	tb = newTestbed(t)
	if summary, account := tb.view(); !strings.Contains(summary, "tid-contoso") || !strings.Contains(account, "tid-contoso") {
		t.Errorf("without organization profiles: %q / %q", summary, account)
	}
}

// A page view reads the support profile once and nothing else on its way; the organization
// profile is asked for at most once per tenant per hour, with the person's token and language.
func TestOrganizationAskedAtMostOncePerTenantPerHour(t *testing.T) {
	orgs := &scriptedOrganizations{profile: contosoOrganization}
	tb, clock := withOrganizations(t, orgs)
	for range 5 {
		tb.view()
	}
	if tb.pc.gets != 5 || orgs.count() != 1 {
		t.Fatalf("5 page views: %d support profile GETs, %d organization calls; want 5 and 1", tb.pc.gets, orgs.count())
	}
	if o := orgs.calls[0]; o.Locale != "en-US" {
		t.Errorf("asked in %q", o.Locale)
	} else if tok, err := o.Token.Token(); err != nil || tok.AccessToken != "access-0" {
		t.Errorf("asked with %v, %v; want the person's token", tok, err)
	}
	clock.advance(59 * time.Minute)
	tb.view()
	if orgs.count() != 1 {
		t.Errorf("asked again after 59 minutes (%d calls)", orgs.count())
	}
	clock.advance(2 * time.Minute)
	orgs.profile.CompanyName = "Contoso Partner Ltd"
	tb.view()
	if orgs.count() != 2 {
		t.Errorf("not asked again after an hour (%d calls)", orgs.count())
	}
	if summary, _ := tb.view(); !strings.Contains(summary, "Contoso Partner Ltd") {
		t.Errorf("the new name is not shown: %q", summary)
	}

	// Another partner's people get their own company, asked once for them.
	olga := auth.User{Subject: "sub-olga", ObjectID: "oid-olga", TenantID: "tid-fabrikam", Name: "Olga Other", AMR: []string{"mfa"}}
	tb.auth.user = &olga
	orgs.profile = pcclient.OrganizationProfile{CompanyName: "Fabrikam Partner", Country: "FR"}
	tb.view()
	tb.view()
	if orgs.count() != 3 {
		t.Errorf("the second tenant: %d calls in all, want 3", orgs.count())
	}
	if summary, _ := tb.view(); !strings.Contains(summary, "Fabrikam Partner") {
		t.Errorf("Olga's header says %q", summary)
	}
	if tb.pc.gets != 11 {
		t.Errorf("%d support profile GETs for 11 page views", tb.pc.gets)
	}
}

// An organization call that hangs and then fails neither holds the page back nor fails it: the
// page is answered while the call still waits, shows the tenant id, and the call is not made
// again for a few minutes.
func TestFailingOrganizationCallNeitherFailsNorSlowsThePage(t *testing.T) {
	orgs := &scriptedOrganizations{err: &pcclient.Error{Kind: pcclient.KindUnavailable, Status: 503},
		release: make(chan struct{}), started: make(chan struct{}, 1)}
	tb, clock := withOrganizations(t, orgs)
	answered := make(chan int, 1)
	go func() {
		rec, _ := tb.request(http.MethodGet, "/", nil)
		answered <- rec.Code
	}()
	select {
	case <-orgs.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the organization profile was never asked for")
	}
	select {
	case code := <-answered:
		if code != http.StatusOK {
			t.Errorf("the page answered %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the page waited for the organization profile")
	}
	close(orgs.release)
	tb.h.organizations.wait()

	summary, _ := tb.view()
	if !strings.Contains(summary, "tid-contoso") {
		t.Errorf("after a failed call the header says %q, want the tenant id", summary)
	}
	clock.advance(4 * time.Minute)
	tb.view()
	if orgs.count() != 1 {
		t.Errorf("asked again %d times within 4 minutes of a failure", orgs.count()-1)
	}
	orgs.mu.Lock()
	orgs.err, orgs.profile, orgs.started = nil, contosoOrganization, nil
	orgs.mu.Unlock()
	clock.advance(2 * time.Minute)
	tb.view()
	if summary, _ := tb.view(); orgs.count() != 2 || !strings.Contains(summary, "Contoso Partner") {
		t.Errorf("after the retry wait: %d calls, header %q", orgs.count(), summary)
	}
	// A page whose own read failed asks nothing more of Partner Center.
	tb.pc.getErrs = []error{errors.New("boom")}
	clock.advance(2 * time.Hour)
	if rec, _ := tb.request(http.MethodGet, "/", nil); rec.Code == http.StatusOK {
		t.Fatal("the failed read was not scripted")
	}
	tb.h.organizations.wait()
	if orgs.count() != 2 {
		t.Errorf("a failed page view asked for the organization (%d calls)", orgs.count())
	}
}
