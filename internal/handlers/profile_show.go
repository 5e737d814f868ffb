package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/pcclient"
	"pcsupport/internal/views"
)

// showProfile renders the form prefilled from Partner Center.
func (h *Handlers) showProfile(c echo.Context) error {
	if currentUser(c).MFAMissing() {
		return h.mfaPage(c)
	}
	correlationID := pcclient.NewID()
	p, err := h.profiles.GetSupportProfile(c.Request().Context(), h.callOptions(c, correlationID))
	if err != nil {
		ex := explain(err, correlationID)
		h.logger(c).Warn("load support profile failed", "user", currentUser(c).Username, "correlation_id", correlationID, "err", err)
		if ex.signIn {
			return h.redirectToSignIn(c, c.Request().URL.RequestURI(), ex.mfa)
		}
		ex.notice.Title = "The support profile could not be loaded. " + ex.notice.Title
		vm := views.ProfilePage{Page: h.page(c, "Could not load"), Form: views.ProfileForm{
			Notice: &ex.notice, Unavailable: true, ReloadURL: h.basePath}}
		return render(c, ex.status, views.ProfilePageView(vm))
	}
	loaded := contactsOf(p)
	form := h.form(c, loaded, loaded, nil)
	if flash := h.sessions.TakeFlash(c.Response(), c.Request()); flash != nil {
		var n views.Notice
		if json.Unmarshal(flash, &n) == nil {
			form.Notice = &n
		}
	}
	title := "Support profile"
	if form.Notice != nil {
		title = form.Notice.Title
	}
	return render(c, http.StatusOK, views.ProfilePageView(views.ProfilePage{Page: h.page(c, title), Form: form}))
}

// form builds the form view model: values as shown, loaded as fetched from Partner Center.
func (h *Handlers) form(c echo.Context, values, loaded contacts, errs fieldErrors) views.ProfileForm {
	return views.ProfileForm{
		Action:      h.basePath + "save",
		CSRFToken:   csrfToken(c),
		Fields:      fields(values, loaded, errs),
		Fingerprint: encodeLoaded(loaded),
	}
}

func contactsOf(p pcclient.Profile) contacts {
	return contacts{Email: p.Email, Telephone: p.Telephone, Website: p.Website}
}

// mfaPage explains, before any Partner Center call, that the token lacks multi-factor
// authentication, which Partner Center requires.
func (h *Handlers) mfaPage(c echo.Context) error {
	vm := views.MessagePage{Page: h.page(c, "Multi-factor authentication needed"),
		Notice: views.Notice{Kind: views.NoticeError,
			Title: "Partner Center requires multi-factor authentication.",
			Lines: []string{
				"You signed in without multi-factor authentication (MFA), and Partner Center refuses every request made that way.",
				"Sign in again and complete the MFA step (for example approve the sign-in in the Authenticator app). If you are never asked for it, ask your administrator to set up MFA for your account.",
			}},
		Actions: []views.Action{{Label: "Sign in again with multi-factor authentication",
			URL: h.signInURL(h.basePath, true)}},
	}
	return render(c, http.StatusForbidden, views.MessagePageView(vm))
}
