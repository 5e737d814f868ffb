package pcemu

const organizationPath = "/v1/profiles/organization"

// The resources a Fault can be meant for.
const (
	ResourceSupport      = "support"      // the support profile; Fault.Resource "" means it too
	ResourceOrganization = "organization" // the organization profile
)

// resourceOf names the resource of a request path (lower case, without a trailing slash): ""
// for the support profile and every other path, as faults and counters had it before the
// organization profile was served.
func resourceOf(path string) string {
	if path == organizationPath {
		return ResourceOrganization
	}
	return ""
}

// Organization is a tenant's organization profile: what GET /v1/profiles/organization tells
// of the partner's company. The service answers it to any signed-in partner user; nothing
// changes it through the API.
type Organization struct {
	CompanyName string `json:"companyName"`
	Domain      string `json:"domain"`
	Country     string `json:"country"` // defaultAddress.country, ISO 3166 alpha-2
	City        string `json:"city"`
	Culture     string `json:"culture"` // e.g. "en-US"
	Language    string `json:"language"`
	Email       string `json:"email"`
}

// seedOrganization is every tenant's organization unless SetOrganization gave it its own, as
// seedProfile is every tenant's first support profile.
var seedOrganization = Organization{
	CompanyName: "Contoso Partner",
	Domain:      "contoso-partner.example",
	Country:     "US",
	City:        "Redmond",
	Culture:     "en-US",
	Language:    "en",
	Email:       "admin@contoso-partner.example",
}

// SetOrganization gives a tenant an organization profile of its own.
func (e *Emulator) SetOrganization(tenantID string, o Organization) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.organizations[tenantID] = o
}

// NamePerson records a person's display name, so that the control page can name them instead
// of showing their object id.
func (e *Emulator) NamePerson(objectID, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.people[objectID] = name
}

func (e *Emulator) organizationLocked(tenantID string) Organization {
	if o, ok := e.organizations[tenantID]; ok {
		return o
	}
	return seedOrganization
}

// organizationResource is the documented camelCase shape of the organization profile.
type organizationResource struct {
	ID             string     `json:"id"`
	CompanyName    string     `json:"companyName"`
	DefaultAddress address    `json:"defaultAddress"`
	TenantID       string     `json:"tenantId"`
	Domain         string     `json:"domain"`
	Email          string     `json:"email"`
	Language       string     `json:"language"`
	Culture        string     `json:"culture"`
	ProfileType    string     `json:"profileType"`
	Links          links      `json:"links"`
	Attributes     attributes `json:"attributes"`
}

type address struct {
	Country string `json:"country"`
	City    string `json:"city"`
}

// organizationJSON is the tenant's organization profile as a GET returns it.
func (e *Emulator) organizationJSON(tenantID string) []byte {
	e.mu.Lock()
	o := e.organizationLocked(tenantID)
	e.mu.Unlock()
	return marshal(organizationResource{
		ID: tenantID, CompanyName: o.CompanyName, DefaultAddress: address{Country: o.Country, City: o.City},
		TenantID: tenantID, Domain: o.Domain, Email: o.Email, Language: o.Language, Culture: o.Culture,
		ProfileType: "organization_profile",
		Links:       links{Self: link{URI: "/profiles/organization", Method: "GET", Headers: []string{}}},
		Attributes:  attributes{ObjectType: "OrganizationProfile"},
	})
}
