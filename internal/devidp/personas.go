package devidp

// TenantID is the dev partner tenant, "Contoso Partner". Every default persona but one belongs
// to it.
const TenantID = "6f0c2b3e-8d4a-4e1f-9b7c-2a5d8e1f4c30"

// OtherTenantID is a second partner tenant, "Fabrikam Partner": what its people see must never
// include Contoso's (and the other way round).
const OtherTenantID = "9d3f6a1b-2c8e-4b7d-a5f0-7e1c3b9d2a48"

// PartnerCenterAppID is the appId of the "Microsoft Partner Center" resource app in Entra ID.
const PartnerCenterAppID = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"

// Persona is a test person who can sign in. The emulator gives each its Partner Center role.
type Persona struct {
	Key         string // short id used in the sign-in form: "admin", "sales", "nomfa"
	ObjectID    string // fixed GUID, used as sub and oid
	Name        string // display name, e.g. "Ada Admin"
	UPN         string // e.g. "ada.admin@contoso-partner.example"; also the email
	TenantID    string
	MFA         bool   // amr is ["pwd","mfa"] when true, ["pwd"] when false
	Role        string // Partner Center role the emulator should give: "AccountAdmin", "SalesAgent"
	Description string // one line shown on the sign-in page
}

// Personas returns the people every development setup needs: one who may save the support
// profile, one whose save Partner Center refuses for the role, one refused for MFA, and an admin
// of another partner tenant.
func Personas() []Persona {
	return []Persona{
		{
			Key:         "admin",
			ObjectID:    "0b7e5c1a-3f2d-4a6b-8c9e-1d2f3a4b5c61",
			Name:        "Ada Admin",
			UPN:         "ada.admin@contoso-partner.example",
			TenantID:    TenantID,
			MFA:         true,
			Role:        "AccountAdmin",
			Description: "Account admin, signed in with MFA: can save",
		},
		{
			Key:         "sales",
			ObjectID:    "5a9d2e7f-1c4b-4f8a-9e3d-6b7c8d9e0f72",
			Name:        "Sam Sales",
			UPN:         "sam.sales@contoso-partner.example",
			TenantID:    TenantID,
			MFA:         true,
			Role:        "SalesAgent",
			Description: "Sales agent, signed in with MFA: can read, saving is refused (403, 900150)",
		},
		{
			Key:         "nomfa",
			ObjectID:    "c3e8f1a2-7b6d-4c5e-8f9a-0b1c2d3e4f83",
			Name:        "Nora NoMFA",
			UPN:         "nora.nomfa@contoso-partner.example",
			TenantID:    TenantID,
			MFA:         false,
			Role:        "AccountAdmin",
			Description: "Account admin, signed in without MFA: gets the MFA explanation",
		},
		{
			Key:         "other",
			ObjectID:    "e4a7c2d9-5b1f-4e8a-b3c6-9d0e1f2a3b94",
			Name:        "Olga Other",
			UPN:         "olga.other@fabrikam-partner.example",
			TenantID:    OtherTenantID,
			MFA:         true,
			Role:        "AccountAdmin",
			Description: "Account admin of another partner (Fabrikam), signed in with MFA: sees and saves only Fabrikam's",
		},
	}
}

// amr is what Entra ID puts in the amr claim for this persona's sign-in.
func (p Persona) amr() []string {
	if p.MFA {
		return []string{"pwd", "mfa"}
	}
	return []string{"pwd"}
}
