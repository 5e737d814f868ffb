package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
	"pcsupport/internal/views"
)

// showProfile renders the form prefilled from Partner Center, or with the values the person had
// typed before they had to sign in again.
func (h *Handlers) showProfile(c echo.Context) error {
	if currentUser(c).MFAMissing() {
		return h.mfaPage(c)
	}
	correlationID, sent := pcclient.NewID(), time.Now()
	p, err := h.upstream(c).get(correlationID)
	if err != nil {
		return h.loadFailed(c, err, correlationID)
	}
	loaded := p.Contact
	// Before the form is built: its history line may be this change.
	h.observeRead(c.Request().Context(), h.logger(c), currentUser(c), loaded, sent)
	values := loaded
	kept, why := h.restoreKept(c)
	if kept != nil {
		// What they typed before signing in again; it was loaded from the values of that time,
		// so a colleague's change in between is still caught as a conflict on save.
		values, loaded = kept.typed, kept.loaded
	}
	var restore *views.Notice
	var restoredFrom int64
	readOnly := kept == nil && h.readOnlyForRole(c)
	if kept != nil {
		restoredFrom = kept.restoredFrom
	} else if id := c.QueryParam(restoreParam); id != "" && !readOnly {
		var from support.Contact
		from, restoredFrom, restore = h.restoreValues(c, id, loaded)
		if restoredFrom != 0 {
			values = from
		}
	}
	form := h.form(c, values, loaded, nil)
	form.Restore, form.RestoredFrom = restore, restoredFromValue(restoredFrom)
	if readOnly {
		form.ReadOnly = h.readOnly(c, loaded)
	}
	if kept != nil && why == keptForSignIn {
		form.Notice = &views.Notice{Kind: views.NoticeInfo, Title: h.loc(c).T("kept.title"), Lines: []string{h.loc(c).T("kept.line")}}
	} else if flash := h.flash.TakeFlash(c.Response(), c.Request()); flash != nil {
		var saved savedChange
		if json.Unmarshal(flash, &saved) == nil {
			form.Notice = savedNotice(h.loc(c), saved)
		}
	}
	if form.Notice == nil {
		form.Notice = h.throttledNotice(c)
	}
	title := h.loc(c).T("profile.title")
	if form.Notice != nil {
		title = form.Notice.Title
	}
	ask := h.organizationAsk(c)
	err = render(c, http.StatusOK, views.ProfilePageView(views.ProfilePage{Page: h.formPage(c, title, form), Form: form, Watch: h.watchPanel(c)}))
	if ask != nil {
		ask() // in the background, once this page is written: it shows what was known when it began
	}
	return err
}

// loadFailed explains why the profile could not be loaded, and shows no form: an empty form
// could be saved over the real values.
func (h *Handlers) loadFailed(c echo.Context, err error, correlationID string) error {
	l := h.loc(c)
	now := time.Now()
	ex := explain(l, err, correlationID, stepGet, answerTo{now: now, zone: zone(c)})
	if ex.key == "throttled" && ex.retryIn > 0 {
		h.throttles.note(historyTenant(currentUser(c)), ex.retryAt(now))
	}
	h.logger(c).Warn("load support profile failed", "user", currentUser(c).Username, "correlation_id", correlationID, "err", err)
	if ex.signIn {
		return h.redirectToSignIn(c, c.Request().URL.RequestURI(), ex.mfa)
	}
	if ex.retryIn > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(ex.retryIn))
	}
	ex.notice.Title = l.T("load.failed") + " " + ex.notice.Title
	vm := views.ProfilePage{Page: h.page(c, l.T("load.failedTitle")), Form: views.ProfileForm{
		Notice: &ex.notice, Unavailable: true, ReloadURL: c.Request().URL.RequestURI()}}
	return render(c, ex.status, views.ProfilePageView(vm))
}

// upstream are the Partner Center calls of the request c, as its signed-in person.
func (h *Handlers) upstream(c echo.Context) upstreamCalls {
	return upstreamCalls{ctx: workContext(c), profiles: h.profiles, locale: h.loc(c).PCLocale,
		creds: sessionCredentials{tokens: h.tokens, w: c.Response(), r: c.Request()}}
}

// formPage is the page around the form: its language switch submits the form, so that what was
// typed comes back in the other language.
func (h *Handlers) formPage(c echo.Context, title string, form views.ProfileForm) views.Page {
	p := h.page(c, title)
	if form.ReadOnly == nil && !form.Unavailable {
		p.LanguageForm = views.ProfileFormID
	}
	return p
}

// restoreKept returns the form values kept when the person's session ended mid-edit; the
// sign-in package gives them only to the person they were kept for.
func (h *Handlers) restoreKept(c echo.Context) (f *profileForm, why string) {
	v := h.kept.TakeKeptFormValues(c.Response(), c.Request())
	if v == nil {
		return nil, ""
	}
	kept := parseProfileForm(v)
	if !kept.loadedOK {
		return nil, ""
	}
	return &kept, v.Get(keptWhy)
}

// keptWhy names, among kept values, why they were kept: keptForSignIn when a new sign-in came
// between, keptForLanguage when the person switched language.
const (
	keptWhy         = "why"
	keptForSignIn   = ""
	keptForLanguage = "language"
)

// form builds the form view model: values as shown, loaded as fetched from Partner Center, and
// the line about the last change under it.
func (h *Handlers) form(c echo.Context, values, loaded support.Contact, errs fieldErrors) views.ProfileForm {
	form := views.ProfileForm{
		Action:     h.basePath + "save",
		CSRFToken:  csrfToken(c),
		Fields:     fields(h.loc(c), values, loaded, errs),
		Loaded:     encodeLoaded(loaded),
		Submission: newSubmissionID(),
		History:    h.historyLine(c),
	}
	if p, offered := errs["telephone"]; offered && p.keep != "" {
		form.Keep = &views.Keep{Name: keepTelephoneField, Value: p.keep, Label: h.loc(c).T("form.keepTelephone", "Typed", p.keep)}
	}
	if until, wait := h.throttles.waitUntil(historyTenant(currentUser(c)), time.Now()); wait {
		form.SaveBlockedUntil = until.UTC().Format(time.RFC3339)
	}
	return form
}

// throttledNotice says, on a page that shows the form, that Partner Center asked the partner to
// wait, and until when; nil when it did not.
func (h *Handlers) throttledNotice(c echo.Context) *views.Notice {
	now := time.Now()
	until, wait := h.throttles.waitUntil(historyTenant(currentUser(c)), now)
	if !wait {
		return nil
	}
	f := failure{status: http.StatusTooManyRequests, key: "throttled", retryIn: secondsUntil(until, now)}
	n := describe(h.loc(c), f, "", answerTo{save: true, now: now, zone: zone(c)}).notice
	return &n
}

// mfaPage explains, before any Partner Center call, that the token lacks multi-factor
// authentication, which Partner Center requires.
func (h *Handlers) mfaPage(c echo.Context) error {
	l := h.loc(c)
	vm := views.MessagePage{Page: h.page(c, l.T("mfa.page")),
		Notice: views.Notice{Kind: views.NoticeError, Title: l.T("mfa.title"), Lines: []string{l.T("mfa.line1"), l.T("mfa.line2")},
			Actions: []views.Action{microsoftPage(l, "mfa")}},
		Actions: []views.Action{{Label: l.T("action.signInAgainMFA"), URL: h.signInURL(h.basePath, true)}},
	}
	return render(c, http.StatusForbidden, views.MessagePageView(vm))
}

// restoreParam asks the form for the values of a history entry ("Put these values back" on the
// history page): GET /?restore=<entry id>.
const restoreParam = "restore"

// restoredFromField is the form's hidden field naming that entry, for the save's history entry.
const restoredFromField = "restored_from"

// restoredFromValue is an entry id as the form carries it; "" for none.
func restoredFromValue(id int64) string {
	if id <= 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// restoreValues reads the entry whose values the person wants back, from their own tenant's
// history only: its after-values, its id, and the line that says which entry's values the
// form shows. When it cannot (another tenant's id, an unknown or malformed one, the history
// unreadable) or they are the current values already, the id is 0 and the line says why.
func (h *Handlers) restoreValues(c echo.Context, param string, current support.Contact) (support.Contact, int64, *views.Notice) {
	l := h.loc(c)
	notFound := &views.Notice{Kind: views.NoticeError, Title: l.T("restore.notFound.title"), Lines: []string{l.T("restore.notFound.line")}}
	tenant := historyTenant(currentUser(c))
	id, err := strconv.ParseInt(param, 10, 64)
	if err != nil || id <= 0 || h.history == nil || tenant == "" {
		return support.Contact{}, 0, notFound
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), historyTimeout)
	defer cancel()
	e, ok, err := h.history.Get(ctx, tenant, id)
	switch {
	case err != nil:
		h.logger(c).Warn("change history not readable for a put back", "tenant_id", tenant, "err", err)
		return support.Contact{}, 0, &views.Notice{Kind: views.NoticeError, Title: l.T("restore.notFound.title"), Lines: []string{l.T("restore.unavailable.line")}}
	case !ok:
		return support.Contact{}, 0, notFound
	}
	when := secondsTime(l, e.At, zone(c))
	if e.After == current {
		return support.Contact{}, 0, &views.Notice{Kind: views.NoticeInfo, Title: l.T("restore.title"), Lines: []string{l.T("restore.same", "When", when)}}
	}
	return e.After, e.ID, &views.Notice{Kind: views.NoticeInfo, Title: l.T("restore.title"), Lines: []string{l.T("restore.line", "When", when)}}
}
