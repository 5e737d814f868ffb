package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/i18n"
	"pcsupport/internal/support"
	"pcsupport/internal/views"
)

// answerSave turns a save's result into the answer: for htmx the form fragment with the
// outcome, otherwise the whole page, or a redirect.
func (h *Handlers) answerSave(c echo.Context, res saveResult) error {
	h.noteRole(c, res)
	l := h.loc(c)
	f := res.form
	switch res.outcome {
	case outcomeInvalid:
		n := noticeOf(views.NoticeError, l, "save.invalid.title", "save.invalid.line")
		return h.respondForm(c, res.status(), f, res.invalid, &n)
	case outcomeMFARequired:
		if isHTMX(c) {
			c.Response().Header().Set("HX-Redirect", h.basePath)
			return c.NoContent(res.status())
		}
		return h.mfaPage(c)
	case outcomeUnchanged:
		n := noticeOf(views.NoticeInfo, l, "save.nothing.title", "save.nothing.line")
		return h.respondForm(c, res.status(), f, nil, &n)
	case outcomeAlreadyCurrent:
		n := noticeOf(views.NoticeInfo, l, "save.nothing.title", "save.current.line")
		f.loaded = *res.current
		return h.respondForm(c, res.status(), f, nil, &n)
	case outcomeBusy:
		c.Response().Header().Set("Retry-After", "5")
		n := noticeOf(views.NoticeError, l, "save.busy.title", "save.busy.line")
		return h.respondForm(c, res.status(), f, nil, &n)
	case outcomeConflict:
		return h.respondConflict(c, res)
	case outcomeSaved, outcomeDuplicate:
		return h.respondSaved(c, res)
	case outcomeSignInRequired:
		return h.keepAndSignIn(c, f)
	case outcomeFailed:
		if res.failure.key == "sessions" && isHTMX(c) {
			return res.err // the error handler's message in the alert area; the form stays as typed
		}
		return h.respondFailure(c, res)
	default:
		return h.respondFailure(c, res)
	}
}

// savedChange is a successful save as remembered across a redirect: the values before and after,
// put into words when shown.
type savedChange struct {
	Before support.Contact `json:"b"`
	After  support.Contact `json:"a"`
	// HistoryNotRecorded: the change history lacks this save (its store failed).
	HistoryNotRecorded bool `json:"h,omitempty"`
}

func savedNotice(l *i18n.Localizer, s savedChange) *views.Notice {
	n := noticeOf(views.NoticeSuccess, l, "save.saved.title", "save.saved.line")
	n.Changes = changes(l, s.Before, s.After)
	if s.HistoryNotRecorded {
		n.Lines = append(n.Lines, l.T("save.historyNotRecorded"))
	}
	return &n
}

// respondSaved answers a successful save: the fragment for htmx, a redirect with a one-time
// message for a plain POST (so reloading the page does not post again).
func (h *Handlers) respondSaved(c echo.Context, res saveResult) error {
	change := savedChange{Before: *res.current, After: *res.stored, HistoryNotRecorded: res.historyNotRecorded}
	if !isHTMX(c) {
		b, _ := json.Marshal(change)
		if err := h.flash.AddFlash(c.Response(), c.Request(), b); err != nil {
			h.logger(c).Warn("could not keep the saved message", "err", err)
		}
		return c.Redirect(http.StatusSeeOther, h.basePath)
	}
	f := res.form
	f.typed, f.loaded, f.submission = change.After, change.After, newSubmissionID()
	return h.respondForm(c, http.StatusOK, f, nil, savedNotice(h.loc(c), change))
}

// respondConflict shows what changed since the form was loaded, who changed it (as the change
// history tells), and what each way on stores, field by field: saving stores the person's own
// changes on top of the current values (the form now holds exactly that), starting again keeps
// the current values.
func (h *Handlers) respondConflict(c echo.Context, res saveResult) error {
	l := h.loc(c)
	f, current := res.form, *res.current
	conflict := &views.Conflict{StartAgainURL: h.basePath}
	var merged support.Contact
	for _, s := range fieldSpecs {
		loaded, now, typed := f.loaded.Get(s.field), current.Get(s.field), f.typed.Get(s.field)
		mine := typed != loaded
		stored := now
		if mine {
			stored = typed
		}
		merged = merged.With(s.field, stored)
		if loaded != now || mine {
			conflict.Rows = append(conflict.Rows, views.ConflictRow{Label: s.short(l), Loaded: loaded, Current: now, Saved: stored,
				Theirs: loaded != now, Mine: mine})
		}
	}
	n := views.Notice{Kind: views.NoticeError, Title: l.T("save.conflict.title"),
		Lines: []string{l.T("save.nothingSaved"), h.changedBy(c, res.user, current), l.T("save.conflict.line2")}}
	form := h.form(c, merged, current, nil)
	form.Notice, form.Conflict = &n, conflict
	form.RestoredFrom = restoredFromValue(f.restoredFrom)
	return h.renderForm(c, http.StatusConflict, form)
}

// changedBy says who made the change a save met, as the change history attributes it: a person
// in this app, or a change made outside it; "someone" when the history does not know.
func (h *Handlers) changedBy(c echo.Context, u auth.User, current support.Contact) string {
	l := h.loc(c)
	tenant := historyTenant(u)
	if h.history == nil || tenant == "" {
		return l.T("save.conflict.someone")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), historyTimeout)
	defer cancel()
	e, found, err := h.history.LastChange(ctx, tenant)
	switch {
	case err != nil || !found || e.After != current:
		return l.T("save.conflict.someone")
	case e.Kind == history.KindSaved:
		return l.T("save.conflict.byPerson", "Name", personName(e.By), "When", clockTime(l, e.At, zone(c), time.Now()))
	default:
		return l.T("save.conflict.outside", "When", clockTime(l, e.At, zone(c), time.Now()))
	}
}

// respondFailure explains a failed save, with the form as typed: what became of the change
// (nothing saved, or perhaps saved), the one next step that can help, and that the values are
// still there. Before a new sign-in the values are kept for the person, as an ended session's are.
func (h *Handlers) respondFailure(c echo.Context, res saveResult) error {
	l := h.loc(c)
	ex := describe(l, res.failure, res.correlationID, answerTo{save: true, now: res.at, zone: zone(c)})
	if ex.retryIn > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(ex.retryIn))
	}
	var errs fieldErrors
	if ex.field != "" {
		errs = fieldErrors{ex.field: problem{id: "valid.refusedByPC"}}
	}
	var lines []string
	if !ex.maybeSaved {
		lines = append(lines, l.T("save.nothingSaved"))
	}
	lines = append(lines, ex.notice.Lines...)
	if ex.signIn {
		h.keepForSignIn(c, res.form)
		h.addSignInAction(c, &ex.notice, ex.mfa)
	} else {
		lines = append(lines, l.T("save.keepValues"))
	}
	ex.notice.Lines = lines
	return h.respondForm(c, ex.status, res.form, errs, &ex.notice)
}

// addSignInAction offers a way to sign in again, coming back to the form.
func (h *Handlers) addSignInAction(c echo.Context, n *views.Notice, mfa bool) {
	label := "action.signInAgain"
	if mfa {
		label = "action.signInAgainMFA"
	}
	n.Actions = append(n.Actions, views.Action{Label: h.loc(c).T(label), URL: h.signInURL(h.basePath, mfa)})
}

// keepAndSignIn keeps what the person typed for them (in a sealed cookie, only when it fits the
// form's limits and the person is known) and sends them to sign in again; the form shows the
// values when they come back, and nothing is saved until they click Save.
func (h *Handlers) keepAndSignIn(c echo.Context, f profileForm) error {
	h.keepForSignIn(c, f)
	return h.redirectToSignIn(c, h.basePath, false)
}

// keepForSignIn keeps what the person typed for them, to be back in the form after a new
// sign-in (in a sealed cookie, only when it fits the form's limits and the person is known).
func (h *Handlers) keepForSignIn(c echo.Context, f profileForm) {
	if withinLimits(f.typed) && f.loadedOK && withinLimits(f.loaded) {
		kept := url.Values{"email": {f.typed.Email}, "telephone": {f.typed.Telephone}, "website": {f.typed.Website},
			"loaded": {encodeLoaded(f.loaded)}, restoredFromField: {restoredFromValue(f.restoredFrom)}}
		switch err := h.kept.KeepFormValues(c.Response(), c.Request(), kept); {
		case errors.Is(err, auth.ErrNoOwner):
			h.logger(c).Info("typed values not kept: nobody known to have typed them")
		case err != nil:
			h.logger(c).Warn("could not keep the typed values", "err", err)
		}
	}
}

// respondForm answers with the form as typed: the fragment for htmx, the whole page otherwise.
func (h *Handlers) respondForm(c echo.Context, status int, f profileForm, errs fieldErrors, n *views.Notice) error {
	form := h.form(c, f.typed, f.loaded, errs)
	form.Submission = f.submission
	form.Notice = n
	form.RestoredFrom = restoredFromValue(f.restoredFrom)
	return h.renderForm(c, status, form)
}

func (h *Handlers) renderForm(c echo.Context, status int, form views.ProfileForm) error {
	if isHTMX(c) {
		return render(c, status, views.ProfileFormView(form))
	}
	title := h.loc(c).T("profile.title")
	if form.Notice != nil {
		title = form.Notice.Title
	}
	return render(c, status, views.ProfilePageView(views.ProfilePage{Page: h.formPage(c, title, form), Form: form}))
}
