package pcemu

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// profileChange is a change of a tenant's stored profile made outside the app, as someone would
// make it in the Partner Center portal or with PowerShell: people testing the app's change
// history need one made behind its back.
type profileChange struct {
	TenantID  string `json:"tenantId"`
	Email     string `json:"email"`
	Telephone string `json:"telephone"`
	Website   string `json:"website"`
}

// postProfile stores a profileChange sent as JSON (answered with the tenant's state) or from the
// control page's form (answered with the page).
func (e *Emulator) postProfile(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	var in profileChange
	var err error
	if wantsJSON(r) {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err = dec.Decode(&in); err != nil {
			err = errors.New("invalid JSON profile: " + err.Error())
		}
	} else if err = r.ParseForm(); err != nil {
		err = errors.New("the form could not be read")
	} else {
		in = profileChange{TenantID: r.PostForm.Get("tenantId"), Email: r.PostForm.Get("email"),
			Telephone: r.PostForm.Get("telephone"), Website: r.PostForm.Get("website")}
	}
	if err == nil {
		err = in.check()
	}
	switch {
	case err != nil && wantsJSON(r):
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		e.renderPage(w, http.StatusBadRequest, pageData{Error: err.Error(), Form: faultJSON{Count: 1}, Change: in})
	default:
		e.SetProfile(strings.TrimSpace(in.TenantID), in.Email, in.Telephone, in.Website)
		e.log.Info("pcemu: profile changed outside the app", "tenant", strings.TrimSpace(in.TenantID))
		if wantsJSON(r) {
			writeControlJSON(w, http.StatusOK, e.tenantState(strings.TrimSpace(in.TenantID)))
			return
		}
		seeOther(w, "./")
	}
}

// check applies the rules a PUT's values must pass: Partner Center's portal and PowerShell refuse
// what the API refuses.
func (c profileChange) check() error {
	var problems []string
	if strings.TrimSpace(c.TenantID) == "" {
		problems = append(problems, "The tenant id is required.")
	}
	for _, field := range []struct {
		name, value string
		check       func(string) string
	}{
		{"Email", c.Email, emailProblem},
		{"Telephone", c.Telephone, telephoneProblem},
		{"Website", c.Website, websiteProblem},
	} {
		if field.value == "" {
			problems = append(problems, "The property '"+field.name+"' is required.")
		} else if problem := field.check(field.value); problem != "" {
			problems = append(problems, "The property '"+field.name+"' is invalid: "+problem)
		}
	}
	if len(problems) > 0 {
		return errors.New("invalid profile: " + strings.Join(problems, " "))
	}
	return nil
}

// tenantState is the tenant's entry of /_emulator/state.
func (e *Emulator) tenantState(tenantID string) tenantSnapshot {
	for _, t := range e.snapshot().Tenants {
		if t.TenantID == tenantID {
			return t
		}
	}
	return tenantSnapshot{TenantID: tenantID, Profile: e.peekProfile(tenantID).resource()}
}

// partners are the tenants known to the emulator, those that called and those given an
// organization of their own, each named by its company, then its tenant id.
func (e *Emulator) partners() []partner {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := map[string]bool{}
	for id := range e.tenants {
		ids[id] = true
	}
	for id := range e.organizations {
		ids[id] = true
	}
	out := make([]partner, 0, len(ids))
	for id := range ids {
		out = append(out, partner{TenantID: id, Name: e.organizationLocked(id).CompanyName + " (tenant " + id + ")"})
	}
	slices.SortFunc(out, func(a, b partner) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// firstTenantChange fills the page's profile form with the first known tenant's values, ready
// to be edited.
func (e *Emulator) firstTenantChange() profileChange {
	tenants := e.snapshot().Tenants
	if len(tenants) == 0 {
		return profileChange{}
	}
	t := tenants[0]
	return profileChange{TenantID: t.TenantID, Email: t.Profile.Email, Telephone: t.Profile.Telephone, Website: t.Profile.Website}
}
