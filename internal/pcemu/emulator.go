// Package pcemu emulates the Partner Center profile API (GET and PUT
// /v1/profiles/support, GET /v1/profiles/organization) as an http.Handler,
// with fault injection, so that the app can be developed and tested without
// the real service.
//
// It behaves like the real service as its public documentation and SDKs
// describe it: it checks delegated (app+user) access tokens with MFA, keeps
// one support profile per partner tenant (seeded on first use; in memory, or
// also in a file given to KeepProfilesIn), gives each tenant an organization
// profile, refuses updates by roles that may not make them, validates input
// like a strict server, throttles per tenant and answers with Partner Center's
// headers and error bodies.
//
// The control surface under /_emulator/ (an HTML page, /_emulator/state,
// /_emulator/faults, /_emulator/profile, /_emulator/reset) needs no token:
// it is a development tool. Never expose the emulator beyond the
// developer's machine or a test network.
package pcemu

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Default accepted audiences: the Partner Center resource URL and its appId.
const (
	AudienceURL   = "https://api.partnercenter.microsoft.com"
	AudienceAppID = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"
)

// Options configure an Emulator. The zero value of every field but KeySet
// has a usable default.
type Options struct {
	// KeySet verifies token signatures, for example
	// oidc.NewRemoteKeySet(ctx, jwksURL) or &oidc.StaticKeySet{...}.
	// Without one every token is refused.
	KeySet oidc.KeySet
	// Audiences are the accepted aud values; default AudienceURL and AudienceAppID.
	Audiences []string
	// Issuers are the accepted iss values; empty accepts any (the signature is still checked).
	Issuers []string
	// Now is the clock for token lifetimes and rate windows; default time.Now.
	Now func() time.Time
	// DefaultRole is the role of users with no assignment; "" is a read-only user.
	DefaultRole string
	// BOM prefixes every JSON body with a UTF-8 byte order mark, as some real responses have.
	BOM bool
	// RateLimit is how many requests a tenant may make per RateWindow before 429; 0 disables throttling.
	RateLimit int
	// RateWindow defaults to one minute.
	RateWindow time.Duration
	// Logger receives one record per request; default discards.
	Logger *slog.Logger
	// AppURL, optional, is the app that uses this emulator: its control page links back to it.
	AppURL string
}

// Stats counts API requests (the control surface is not counted). Every
// request lands in exactly one counter: a GET answered with the support
// profile, a PUT that stored it, or a refusal (any error status, throttling, a
// fault that replaced the answer, a reset or a cancelled delay). Requests for
// the organization profile have counters of their own, so that the support
// profile's mean the same whether or not a client also reads the organization.
type Stats struct {
	Gets    int `json:"gets"`
	Puts    int `json:"puts"`
	Refused int `json:"refused"`

	OrganizationGets    int `json:"organizationGets"`
	OrganizationRefused int `json:"organizationRefused"`
}

// Emulator is the Partner Center emulator. It is safe for concurrent use.
type Emulator struct {
	keySet      oidc.KeySet
	audiences   []string
	issuers     []string
	now         func() time.Time
	defaultRole string
	bom         bool
	rateLimit   int
	rateWindow  time.Duration
	log         *slog.Logger
	appURL      string
	control     http.Handler
	// sleep waits for a fault's delay; tests replace it to observe delays without timing them.
	sleep func(ctx context.Context, d time.Duration) error

	mu            sync.Mutex
	tenants       map[string]*tenant
	seeds         map[string]profile      // a tenant's own first values; others start from seedProfile
	organizations map[string]Organization // a tenant's own organization; others have seedOrganization
	roles         map[roleKey]string
	people        map[string]string // display names by object id, for the control page
	faults        []Fault
	stats         Stats

	profilesFile profilesFile // where stored profiles are kept between runs; none by default
}

type tenant struct {
	profile     profile
	stats       Stats
	windowStart time.Time
	windowCount int
}

type roleKey struct{ tenantID, objectID string }

// New returns an Emulator configured by o.
func New(o Options) *Emulator {
	e := &Emulator{
		keySet:      o.KeySet,
		audiences:   o.Audiences,
		issuers:     o.Issuers,
		now:         o.Now,
		defaultRole: o.DefaultRole,
		bom:         o.BOM,
		rateLimit:   o.RateLimit,
		rateWindow:  o.RateWindow,
		log:         o.Logger,
		appURL:      o.AppURL,
		sleep:       sleepContext,
		tenants:     map[string]*tenant{},
		seeds:       map[string]profile{},
		roles:       map[roleKey]string{},

		organizations: map[string]Organization{},
		people:        map[string]string{},
	}
	if len(e.audiences) == 0 {
		e.audiences = []string{AudienceURL, AudienceAppID}
	}
	if e.now == nil {
		e.now = time.Now
	}
	if canonical, ok := KnownRole(e.defaultRole); ok {
		e.defaultRole = canonical
	}
	if e.rateWindow <= 0 {
		e.rateWindow = time.Minute
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.keySet == nil {
		e.log.Warn("pcemu: no KeySet configured; every token will be refused")
	}
	e.control = e.controlHandler()
	return e
}

// ServeHTTP answers the Partner Center API and, under /_emulator/, the control surface.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setTraceHeaders(w, r)
	if r.URL.Path == controlRoot || strings.HasPrefix(r.URL.Path, controlPrefix) {
		e.control.ServeHTTP(w, r)
		return
	}
	e.serveAPI(w, r)
}

// AssignRole records the Partner Center role of a user (by tenant and object
// id). Roles: GlobalAdmin, AccountAdmin, AdminAgent (may update),
// SalesAgent, HelpdeskAgent, BillingAdmin (read only). An empty role removes
// the assignment, so the user falls back to Options.DefaultRole.
func (e *Emulator) AssignRole(tenantID, objectID, role string) {
	if canonical, ok := KnownRole(role); ok {
		role = canonical
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if role == "" {
		delete(e.roles, roleKey{tenantID, objectID})
		return
	}
	e.roles[roleKey{tenantID, objectID}] = role
}

// Profile returns the tenant's stored values, or the seed if it has none yet.
func (e *Emulator) Profile(tenantID string) (email, telephone, website string) {
	p := e.peekProfile(tenantID)
	return p.Email, p.Telephone, p.Website
}

// StoredJSON returns the tenant's resource as a GET would return it, without BOM.
func (e *Emulator) StoredJSON(tenantID string) []byte {
	return e.peekProfile(tenantID).resourceJSON()
}

// SetProfile stores values as if a colleague had changed them elsewhere.
// The values are not validated, so tests can also plant data the service
// holds from older, laxer days.
func (e *Emulator) SetProfile(tenantID, email, telephone, website string) {
	e.mu.Lock()
	e.tenantLocked(tenantID).profile = profile{Email: email, Telephone: telephone, Website: website}
	e.mu.Unlock()
	e.keepProfiles()
}

// SeedProfile gives a tenant first values of its own, which it starts from now and after a reset
// of the storage (other tenants start from Contoso's).
func (e *Emulator) SeedProfile(tenantID, email, telephone, website string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seeds[tenantID] = profile{Email: email, Telephone: telephone, Website: website}
	e.tenantLocked(tenantID).profile = e.seeds[tenantID]
}

func (e *Emulator) seedLocked(tenantID string) profile {
	if p, ok := e.seeds[tenantID]; ok {
		return p
	}
	return seedProfile
}

// InjectFaults queues f: the next f.Count API requests that match it are
// answered with the fault instead of normally.
func (e *Emulator) InjectFaults(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	f.Method = strings.ToUpper(f.Method)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, f)
}

// ClearFaults empties the fault queue.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// Stats returns the counters over all tenants, including requests whose
// token named no tenant.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// TenantStats returns the counters of requests whose token named tenantID
// (for refusals, even when the token was not valid).
func (e *Emulator) TenantStats(tenantID string) Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.tenants[tenantID]; ok {
		return t.stats
	}
	return Stats{}
}

// resetStorage forgets every stored profile; tenants are seeded again on next use.
func (e *Emulator) resetStorage() {
	e.mu.Lock()
	for id, t := range e.tenants {
		t.profile = e.seedLocked(id)
	}
	e.mu.Unlock()
	e.keepProfiles()
}

func (e *Emulator) tenantLocked(tenantID string) *tenant {
	t, ok := e.tenants[tenantID]
	if !ok {
		t = &tenant{profile: e.seedLocked(tenantID)}
		e.tenants[tenantID] = t
	}
	return t
}

func (e *Emulator) peekProfile(tenantID string) profile {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.tenants[tenantID]; ok {
		return t.profile
	}
	return e.seedLocked(tenantID)
}

func (e *Emulator) loadProfile(tenantID string) profile {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tenantLocked(tenantID).profile
}

func (e *Emulator) storeProfile(tenantID string, p profile) {
	e.mu.Lock()
	e.tenantLocked(tenantID).profile = p
	e.mu.Unlock()
	e.keepProfiles()
}

// outcome is where a request lands in Stats.
type outcome int

const (
	outcomeRefused outcome = iota
	outcomeGet
	outcomePut
)

// count adds a request to the counters of its resource (ResourceOrganization, or any other path).
func (e *Emulator) count(tenantID, resource string, o outcome) {
	e.mu.Lock()
	defer e.mu.Unlock()
	counters := []*Stats{&e.stats}
	if tenantID != "" {
		counters = append(counters, &e.tenantLocked(tenantID).stats)
	}
	for _, s := range counters {
		switch {
		case resource == ResourceOrganization && o == outcomeGet:
			s.OrganizationGets++
		case resource == ResourceOrganization:
			s.OrganizationRefused++
		case o == outcomeGet:
			s.Gets++
		case o == outcomePut:
			s.Puts++
		default:
			s.Refused++
		}
	}
}

// takeFault consumes one use of the first queued fault matching method and resource.
func (e *Emulator) takeFault(method, resource string) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.faults {
		f := &e.faults[i]
		if f.Method != "" && f.Method != method || f.Resource != resource {
			continue
		}
		taken := *f
		f.Count--
		if f.Count <= 0 {
			e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
		}
		return taken, true
	}
	return Fault{}, false
}

// throttle counts a request in the tenant's fixed window and, when the
// window is full, says how long until it ends.
func (e *Emulator) throttle(tenantID string) (retryAfter time.Duration, ok bool) {
	if e.rateLimit <= 0 {
		return 0, true
	}
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tenantLocked(tenantID)
	if t.windowStart.IsZero() || !now.Before(t.windowStart.Add(e.rateWindow)) {
		t.windowStart, t.windowCount = now, 0
	}
	t.windowCount++
	if t.windowCount <= e.rateLimit {
		return 0, true
	}
	return t.windowStart.Add(e.rateWindow).Sub(now), false
}

// roleOf resolves a user's Partner Center role: Global Administrators in
// Entra (wids) are GlobalAdmin, others come from the directory or the default.
func (e *Emulator) roleOf(c *claims) string {
	for _, w := range c.WIDs {
		if w == globalAdminTemplateID {
			return RoleGlobalAdmin
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if role, ok := e.roles[roleKey{c.TenantID, c.userID()}]; ok {
		return role
	}
	return e.defaultRole
}

// snapshot is a consistent copy of the state for the control surface.
type snapshot struct {
	Tenants     []tenantSnapshot `json:"tenants"`
	Roles       []roleSnapshot   `json:"roles"`
	DefaultRole string           `json:"defaultRole"`
	Faults      []faultJSON      `json:"faults"`
	Stats       Stats            `json:"stats"`
}

type tenantSnapshot struct {
	TenantID     string       `json:"tenantId"`
	Organization Organization `json:"organization"`
	Profile      resource     `json:"profile"`
	Stats        Stats        `json:"stats"`
}

type roleSnapshot struct {
	TenantID string `json:"tenantId"`
	Company  string `json:"company"` // the tenant's company name
	ObjectID string `json:"objectId"`
	Name     string `json:"name,omitempty"` // the person's name, when known
	Role     string `json:"role"`
}

func (e *Emulator) snapshot() snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := snapshot{
		Tenants:     []tenantSnapshot{},
		Roles:       []roleSnapshot{},
		DefaultRole: e.defaultRole,
		Faults:      []faultJSON{},
		Stats:       e.stats,
	}
	for id, t := range e.tenants {
		s.Tenants = append(s.Tenants, tenantSnapshot{TenantID: id, Organization: e.organizationLocked(id),
			Profile: t.profile.resource(), Stats: t.stats})
	}
	sort.Slice(s.Tenants, func(i, j int) bool { return s.Tenants[i].TenantID < s.Tenants[j].TenantID })
	for k, role := range e.roles {
		s.Roles = append(s.Roles, roleSnapshot{TenantID: k.tenantID, Company: e.organizationLocked(k.tenantID).CompanyName,
			ObjectID: k.objectID, Name: e.people[k.objectID], Role: role})
	}
	sort.Slice(s.Roles, func(i, j int) bool {
		if s.Roles[i].TenantID != s.Roles[j].TenantID {
			return s.Roles[i].TenantID < s.Roles[j].TenantID
		}
		if s.Roles[i].Name != s.Roles[j].Name {
			return s.Roles[i].Name < s.Roles[j].Name
		}
		return s.Roles[i].ObjectID < s.Roles[j].ObjectID
	})
	for _, f := range e.faults {
		s.Faults = append(s.Faults, toFaultJSON(f))
	}
	return s
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
