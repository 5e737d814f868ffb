package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/pcclient"
	"pcsupport/internal/views"
)

// saveProfile validates the form, merges the three fields into the profile as Partner Center has
// it now, and PUTs the whole profile back. htmx gets the form fragment with the outcome; a plain
// POST gets the full page, or a redirect with a one-time message on success.
func (h *Handlers) saveProfile(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	f := parseProfileForm(c.Request().PostForm)
	user := currentUser(c)

	if errs := f.typed.validate(); len(errs) > 0 {
		n := views.Notice{Kind: views.NoticeError, Title: "Some values need a correction.", Lines: []string{"Nothing was saved. Correct the fields marked below, then save again."}}
		return h.respondForm(c, http.StatusUnprocessableEntity, f, errs, &n)
	}
	if user.MFAMissing() {
		if isHTMX(c) {
			c.Response().Header().Set("HX-Redirect", h.basePath)
			return c.NoContent(http.StatusForbidden)
		}
		return h.mfaPage(c)
	}
	if f.loadedOK && f.typed == f.loaded {
		n := views.Notice{Kind: views.NoticeInfo, Title: "Nothing to save.", Lines: []string{"The values are the same as the ones loaded from Partner Center."}}
		return h.respondForm(c, http.StatusOK, f, nil, &n)
	}

	ctx := c.Request().Context()
	correlationID := pcclient.NewID()
	opts := h.callOptions(c, correlationID)
	current, err := h.profiles.GetSupportProfile(ctx, opts)
	if err != nil {
		return h.respondUpstreamError(c, f, err, correlationID, "get")
	}
	saved, err := h.profiles.UpdateSupportProfile(ctx, opts, current.WithContacts(f.typed.Email, f.typed.Telephone, f.typed.Website))
	if err != nil {
		return h.respondUpstreamError(c, f, err, correlationID, "update")
	}

	before, after := contactsOf(current), contactsOf(saved)
	h.logger(c).Info("support profile saved", "user", user.Username, "oid", user.ObjectID, "tid", user.TenantID, "correlation_id", correlationID)
	n := views.Notice{Kind: views.NoticeSuccess, Title: "Saved.", Changes: changes(before, after)}
	if len(n.Changes) == 0 {
		n.Lines = []string{"Partner Center already had these values."}
	} else {
		n.Lines = []string{"Partner Center now shows your customers the new details."}
	}
	if !isHTMX(c) {
		b, _ := json.Marshal(n)
		if err := h.sessions.AddFlash(c.Response(), c.Request(), b); err != nil {
			h.logger(c).Warn("could not keep the saved message", "err", err)
		}
		return c.Redirect(http.StatusSeeOther, h.basePath)
	}
	f.typed, f.loaded = after, after
	return h.respondForm(c, http.StatusOK, f, nil, &n)
}

func (h *Handlers) respondUpstreamError(c echo.Context, f profileForm, err error, correlationID, step string) error {
	ex := explain(err, correlationID)
	h.logger(c).Warn("save support profile failed", "step", step, "user", currentUser(c).Username, "correlation_id", correlationID, "err", err)
	if ex.retryIn > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(ex.retryIn))
	}
	var errs fieldErrors
	if ex.field != "" {
		errs = fieldErrors{ex.field: "Partner Center did not accept this value."}
	}
	if ex.signIn {
		ex.notice.Lines = append(ex.notice.Lines, "Your values are still in the form below.")
		h.addSignInAction(&ex.notice, ex.mfa)
	}
	return h.respondForm(c, ex.status, f, errs, &ex.notice)
}

// respondForm answers with the form as typed: the fragment for htmx, the whole page otherwise.
func (h *Handlers) respondForm(c echo.Context, status int, f profileForm, errs fieldErrors, n *views.Notice) error {
	form := h.form(c, f.typed, f.loaded, errs)
	form.Notice = n
	if isHTMX(c) {
		return render(c, status, views.ProfileFormView(form))
	}
	title := "Support profile"
	if n != nil {
		title = n.Title
	}
	return render(c, status, views.ProfilePageView(views.ProfilePage{Page: h.page(c, title), Form: form}))
}
