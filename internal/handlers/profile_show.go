package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/pcclient"
	"pcsupport/internal/views"
)

// showProfile renders the form prefilled from Partner Center, or with the values the person had
// typed before they had to sign in again.
func (h *Handlers) showProfile(c echo.Context) error {
	if currentUser(c).MFAMissing() {
		return h.mfaPage(c)
	}
	opts := h.callOptions(c, pcclient.NewID())
	p, err := h.withSilentRefresh(c, opts, func(o pcclient.CallOptions) (pcclient.Profile, error) {
		return h.profiles.GetSupportProfile(c.Request().Context(), o)
	})
	if err != nil {
		ex := explain(h.loc(c), err, opts.CorrelationID, stepGet)
		h.logger(c).Warn("load support profile failed", "user", currentUser(c).Username, "correlation_id", opts.CorrelationID, "err", err)
		if ex.signIn {
			return h.redirectToSignIn(c, c.Request().URL.RequestURI(), ex.mfa)
		}
		if ex.retryIn > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(ex.retryIn))
		}
		// No form: an empty form could be saved over the real values.
		ex.notice.Title = h.loc(c).T("load.failed") + " " + ex.notice.Title
		vm := views.ProfilePage{Page: h.page(c, h.loc(c).T("load.failedTitle")), Form: views.ProfileForm{
			Notice: &ex.notice, Unavailable: true, ReloadURL: c.Request().URL.RequestURI()}}
		return render(c, ex.status, views.ProfilePageView(vm))
	}

	loaded := contactsOf(p)
	form := h.form(c, loaded, loaded, nil)
	if kept := h.restoreKept(c); kept != nil {
		// What they typed before signing in again; it was loaded from the values of that time,
		// so a colleague's change in between is still caught as a conflict on save.
		form = h.form(c, kept.typed, kept.loaded, nil)
		form.Notice = &views.Notice{Kind: views.NoticeInfo, Title: h.loc(c).T("kept.title"), Lines: []string{h.loc(c).T("kept.line")}}
	} else if flash := h.sessions.TakeFlash(c.Response(), c.Request()); flash != nil {
		var n views.Notice
		if json.Unmarshal(flash, &n) == nil {
			form.Notice = &n
		}
	}
	title := h.loc(c).T("profile.title")
	if form.Notice != nil {
		title = form.Notice.Title
	}
	return render(c, http.StatusOK, views.ProfilePageView(views.ProfilePage{Page: h.page(c, title), Form: form}))
}

// restoreKept returns the form values kept when the person's session ended mid-edit, if they
// were kept for this person.
func (h *Handlers) restoreKept(c echo.Context) *profileForm {
	v := h.sessions.TakeKeptFormValues(c.Response(), c.Request())
	if v == nil {
		return nil
	}
	if owner := v.Get(keptForKey); owner != "" && owner != currentUser(c).Subject {
		return nil
	}
	f := parseProfileForm(v)
	if !f.loadedOK {
		return nil
	}
	return &f
}

// form builds the form view model: values as shown, loaded as fetched from Partner Center.
func (h *Handlers) form(c echo.Context, values, loaded contacts, errs fieldErrors) views.ProfileForm {
	return views.ProfileForm{
		Action:      h.basePath + "save",
		CSRFToken:   csrfToken(c),
		Fields:      fields(h.loc(c), values, loaded, errs),
		Fingerprint: encodeLoaded(loaded),
		Submission:  newSubmissionID(),
	}
}

func contactsOf(p pcclient.Profile) contacts {
	return contacts{Email: p.Email, Telephone: p.Telephone, Website: p.Website}
}

// mfaPage explains, before any Partner Center call, that the token lacks multi-factor
// authentication, which Partner Center requires.
func (h *Handlers) mfaPage(c echo.Context) error {
	l := h.loc(c)
	vm := views.MessagePage{Page: h.page(c, l.T("mfa.page")),
		Notice:  views.Notice{Kind: views.NoticeError, Title: l.T("mfa.title"), Lines: []string{l.T("mfa.line1"), l.T("mfa.line2")}},
		Actions: []views.Action{{Label: l.T("action.signInAgainMFA"), URL: h.signInURL(h.basePath, true)}},
	}
	return render(c, http.StatusForbidden, views.MessagePageView(vm))
}
