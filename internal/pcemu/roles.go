package pcemu

import "strings"

// Partner Center roles the emulator knows. Only the first three may update
// the support profile; every signed-in partner user may read it.
const (
	RoleGlobalAdmin   = "GlobalAdmin"
	RoleAccountAdmin  = "AccountAdmin"
	RoleAdminAgent    = "AdminAgent"
	RoleSalesAgent    = "SalesAgent"
	RoleHelpdeskAgent = "HelpdeskAgent"
	RoleBillingAdmin  = "BillingAdmin"
)

// globalAdminTemplateID is Entra's Global Administrator role template id, as found in wids.
const globalAdminTemplateID = "62e90394-69f5-4237-9190-012177145e10"

var knownRoles = []string{
	RoleGlobalAdmin, RoleAccountAdmin, RoleAdminAgent,
	RoleSalesAgent, RoleHelpdeskAgent, RoleBillingAdmin,
}

// KnownRole reports whether role names a Partner Center role the emulator
// knows (case-insensitively) and returns its canonical spelling.
func KnownRole(role string) (canonical string, ok bool) {
	for _, k := range knownRoles {
		if strings.EqualFold(k, role) {
			return k, true
		}
	}
	return role, false
}

func mayUpdate(role string) bool {
	switch role {
	case RoleGlobalAdmin, RoleAccountAdmin, RoleAdminAgent:
		return true
	}
	return false
}
