package handlers

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
	"pcsupport/internal/views"
)

// tryAnywayParam asks for the form although the person's role was refused: a role may just
// have been granted.
const tryAnywayParam = "edit"

// refusedForRole reports that Partner Center refused a save for the person's role (403 with
// 900150 or 2032), as opposed to refusing one request.
func refusedForRole(res saveResult) bool {
	var pe *pcclient.Error
	return res.outcome == outcomeRefused && errors.As(res.err, &pe) && pe.Kind == pcclient.KindForbidden &&
		(pe.Code == "900150" || pe.Code == "2032")
}

// noteRole keeps what a save learnt of the person's role: refused, for the next pages to show the
// values read-only; or able, once a save went through.
func (h *Handlers) noteRole(c echo.Context, res saveResult) {
	if h.roles == nil {
		return
	}
	switch {
	case res.outcome == outcomeSaved:
		h.roles.ForgetRoleRefusal(c.Response(), c.Request())
	case refusedForRole(res) && !res.user.GlobalAdministrator():
		if err := h.roles.RememberRoleRefusal(c.Response(), c.Request()); err != nil {
			h.logger(c).Warn("could not remember the refusal for the role", "err", err)
		}
	}
}

// readOnlyForRole says whether the page shows the values without a form: Partner Center refused
// this person's save for their role lately, they hold no role known to be able, and they did not
// ask to try anyway (which forgets the refusal).
func (h *Handlers) readOnlyForRole(c echo.Context) bool {
	if h.roles == nil || currentUser(c).GlobalAdministrator() {
		return false
	}
	if c.QueryParam(tryAnywayParam) != "" {
		h.roles.ForgetRoleRefusal(c.Response(), c.Request())
		return false
	}
	return h.roles.RoleRefused(c.Request())
}

// readOnly is the page's part without a form: the values, why they cannot be changed here, who
// can, and a way to try anyway.
func (h *Handlers) readOnly(c echo.Context, values support.Contact) *views.ReadOnly {
	l := h.loc(c)
	ro := &views.ReadOnly{Title: l.T("readOnly.title"), Reason: l.T("readOnly.reason"),
		TryURL: h.basePath + "?" + tryAnywayParam + "=1", TryLabel: l.T("readOnly.try"), Roles: microsoftPage(l, "roles")}
	for _, s := range fieldSpecs {
		ro.Values = append(ro.Values, views.Detail{Label: s.label(l), Value: values.Get(s.field)})
	}
	if names := h.peopleWhoSaved(c, currentUser(c)); len(names) > 0 {
		ro.WhoCan = l.T("readOnly.whoSaved", "Names", strings.Join(names, ", "))
	} else {
		ro.WhoCan = l.T("readOnly.whoCan")
	}
	return ro
}

// peopleWhoSaved are the people who saved the support profile in this app lately, newest first,
// the signed-in person aside: their role could, so they are the ones to ask.
func (h *Handlers) peopleWhoSaved(c echo.Context, u auth.User) []string {
	tenant := historyTenant(u)
	if h.history == nil || tenant == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), historyTimeout)
	defer cancel()
	page, err := h.history.List(ctx, tenant, history.Filter{Kind: history.KindSaved}, history.Cursor{}, history.DefaultPageSize)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range page.Entries {
		name := personName(e.By)
		if e.Kind != history.KindSaved || e.By.ObjectID == u.ObjectID || name == "" || slices.Contains(names, name) {
			continue
		}
		if names = append(names, name); len(names) == 3 {
			break
		}
	}
	return names
}
