package handlers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"pcsupport/internal/pcclient"
)

// OrganizationService is what the handlers need to name the partner's company: Partner
// Center's organization profile.
type OrganizationService interface {
	GetOrganizationProfile(ctx context.Context, o pcclient.CallOptions) (pcclient.OrganizationProfile, error)
}

const (
	// organizationFresh is how long an organization profile is used before it is asked again:
	// company names and countries change rarely, and every ask is a call against the partner's
	// Partner Center limits.
	organizationFresh = time.Hour
	// organizationRetry is the wait after a failed ask: a Partner Center in trouble is not asked
	// on every page view.
	organizationRetry = 5 * time.Minute
	// organizationTimeout bounds one ask, retries included; nobody waits for it.
	organizationTimeout = 30 * time.Second
)

// organizations is what this process knows of each partner tenant's organization profile.
//
// A page view never waits for it: after a page view that read the support profile, when the
// tenant's profile is missing or older than organizationFresh, it is asked for in the
// background with the person's access token (the one the page view just used), and the next
// page shows it. Until then, or when Partner Center does not answer, the header shows the tenant
// id. Asking at sign-in instead would name the company one page earlier, but only on the
// replica that handled the sign-in, and never for sessions that began before this process
// started; after a page view every replica learns it from its own traffic.
type organizations struct {
	service OrganizationService // nil: companies are never named
	now     func() time.Time
	log     *slog.Logger

	mu       sync.Mutex
	byTenant map[string]*organizationEntry
	asking   sync.WaitGroup // the asks under way, for tests and shutdown
}

type organizationEntry struct {
	profile pcclient.OrganizationProfile
	known   bool      // profile holds Partner Center's answer
	askAt   time.Time // not asked again before then
	asking  bool
}

func newOrganizations(service OrganizationService, log *slog.Logger) *organizations {
	return &organizations{service: service, now: time.Now, log: log, byTenant: map[string]*organizationEntry{}}
}

// lookup returns what is known of the tenant's organization, however old: a name that has not
// been asked again yet is still the company's.
func (o *organizations) lookup(tenantID string) (pcclient.OrganizationProfile, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.byTenant[tenantID]
	if !ok || !e.known {
		return pcclient.OrganizationProfile{}, false
	}
	return e.profile, true
}

// askIfDue starts asking Partner Center for the tenant's organization profile in the
// background, unless it is fresh, being asked, or failed a short while ago. It returns at once.
func (o *organizations) askIfDue(tenantID string, token *oauth2.Token, locale string) {
	if o.service == nil || tenantID == "" || token == nil {
		return
	}
	o.mu.Lock()
	e, ok := o.byTenant[tenantID]
	if !ok {
		e = &organizationEntry{}
		o.byTenant[tenantID] = e
	}
	if e.asking || o.now().Before(e.askAt) {
		o.mu.Unlock()
		return
	}
	e.asking = true
	o.mu.Unlock()

	o.asking.Add(1)
	go func() {
		defer o.asking.Done()
		ctx, cancel := context.WithTimeout(context.Background(), organizationTimeout)
		defer cancel()
		p, err := o.service.GetOrganizationProfile(ctx, pcclient.CallOptions{Token: oauth2.StaticTokenSource(token), Locale: locale})
		o.mu.Lock()
		defer o.mu.Unlock()
		e.asking = false
		if err != nil {
			e.askAt = o.now().Add(organizationRetry)
			o.log.Warn("organization profile not read; the header shows the tenant id", "tenant", tenantID,
				"retry_after", organizationRetry, "err", err)
			return
		}
		e.profile, e.known, e.askAt = p, true, o.now().Add(organizationFresh)
	}()
}

// wait returns when no ask is under way.
func (o *organizations) wait() { o.asking.Wait() }

// organizationAsk is what a page view that read the support profile does once it has answered:
// ask for the company's organization profile when it is due, with the token that page view
// used (taken now, while the request is under way). It returns nil when nothing is due.
func (h *Handlers) organizationAsk(c echo.Context) func() {
	tenantID := currentUser(c).TenantID
	if h.organizations.service == nil || tenantID == "" || !h.organizations.due(tenantID) {
		return nil // most page views: nothing more than this check
	}
	token, err := h.tokens.TokenSource(c.Response(), c.Request()).Token()
	if err != nil {
		return nil // the page worked; the name can wait for the next one
	}
	locale := h.loc(c).PCLocale
	return func() { h.organizations.askIfDue(tenantID, token, locale) }
}

// due reports that the tenant's organization profile may be asked for now.
func (o *organizations) due(tenantID string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.byTenant[tenantID]
	return !ok || !e.asking && !o.now().Before(e.askAt)
}
