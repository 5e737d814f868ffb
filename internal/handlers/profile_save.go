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

	"pcsupport/internal/pcclient"
	"pcsupport/internal/views"
)

// saveProfile validates the form, checks that nobody changed the profile since the form was
// loaded, merges the three fields into the profile as Partner Center has it now and PUTs the
// whole profile back. htmx gets the form fragment with the outcome; a plain POST gets the full
// page, or a redirect with a one-time message on success.
func (h *Handlers) saveProfile(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	f := parseProfileForm(c.Request().PostForm)
	a := h.newAudit(c, f)
	l := h.loc(c)

	if errs := f.typed.validate(); len(errs) > 0 {
		a.record("invalid", http.StatusUnprocessableEntity, nil)
		n := views.Notice{Kind: views.NoticeError, Title: l.T("save.invalid.title"), Lines: []string{l.T("save.invalid.line")}}
		return h.respondForm(c, http.StatusUnprocessableEntity, f, errs, &n)
	}
	if currentUser(c).MFAMissing() {
		a.record("mfa_required", http.StatusForbidden, nil)
		if isHTMX(c) {
			c.Response().Header().Set("HX-Redirect", h.basePath)
			return c.NoContent(http.StatusForbidden)
		}
		return h.mfaPage(c)
	}
	if f.loadedOK && f.typed == f.loaded {
		a.record("unchanged", http.StatusOK, nil)
		n := views.Notice{Kind: views.NoticeInfo, Title: l.T("save.nothing.title"), Lines: []string{l.T("save.nothing.line")}}
		return h.respondForm(c, http.StatusOK, f, nil, &n)
	}

	// One click, one change: a repeat of a form that is being or has been saved gets that outcome.
	key := currentUser(c).Subject + "/" + f.submission
	sub, earlier, err := h.submissions.begin(c.Request().Context(), key)
	if err != nil {
		return err
	}
	if earlier != nil {
		a.record("duplicate", http.StatusOK, nil)
		return h.respondSaved(c, f, earlier.after, *earlier.saved)
	}
	saved, after, err := h.save(c, f, a)
	h.submissions.finish(key, sub, saved, after)
	if err != nil || saved == nil {
		return err
	}
	return h.respondSaved(c, f, after, *saved)
}

// save does the upstream part under the partner's lock, so that two saves in this app never
// interleave their check and their PUT. It returns the success notice, or nil after it has
// answered the request itself (conflict, failure).
func (h *Handlers) save(c echo.Context, f profileForm, a *audit) (*views.Notice, contacts, error) {
	l := h.loc(c)
	lockCtx, cancel := context.WithTimeout(c.Request().Context(), h.tenantLockWait)
	unlock, err := h.tenantLocks.Lock(lockCtx, currentUser(c).TenantID)
	cancel()
	if err != nil {
		// Other saves of this partner hold the way to Partner Center for too long.
		a.record("busy", http.StatusServiceUnavailable, nil)
		c.Response().Header().Set("Retry-After", "5")
		n := views.Notice{Kind: views.NoticeError, Title: l.T("save.busy.title"), Lines: []string{l.T("save.busy.line")}}
		return nil, contacts{}, h.respondForm(c, http.StatusServiceUnavailable, f, nil, &n)
	}
	defer unlock()

	opts := h.callOptions(c, pcclient.NewID())
	a.correlationID = opts.CorrelationID
	current, err := h.withSilentRefresh(c, opts, func(o pcclient.CallOptions) (pcclient.Profile, error) {
		return h.profiles.GetSupportProfile(c.Request().Context(), o)
	})
	if err != nil {
		return nil, contacts{}, h.respondUpstreamError(c, f, err, opts.CorrelationID, stepGet, a)
	}
	before := contactsOf(current)
	a.before = &before
	if f.loadedOK && before != f.loaded {
		a.record("conflict", http.StatusConflict, nil)
		return nil, contacts{}, h.respondConflict(c, f, before)
	}
	if before == f.typed {
		a.record("already_current", http.StatusOK, nil)
		n := views.Notice{Kind: views.NoticeInfo, Title: l.T("save.nothing.title"), Lines: []string{l.T("save.current.line")}}
		f.loaded = before
		return nil, contacts{}, h.respondForm(c, http.StatusOK, f, nil, &n)
	}

	opts.RequestID = f.submission // a repeated PUT of this form is the same operation upstream
	a.requestID = opts.RequestID
	stored, err := h.withSilentRefresh(c, opts, func(o pcclient.CallOptions) (pcclient.Profile, error) {
		return h.profiles.UpdateSupportProfile(c.Request().Context(), o, current.WithContacts(f.typed.Email, f.typed.Telephone, f.typed.Website))
	})
	if err != nil {
		return nil, contacts{}, h.respondUpstreamError(c, f, err, opts.CorrelationID, stepUpdate, a)
	}
	after := contactsOf(stored)
	a.record("saved", http.StatusOK, &after)
	n := views.Notice{Kind: views.NoticeSuccess, Title: l.T("save.saved.title"), Changes: changes(l, before, after),
		Lines: []string{l.T("save.saved.line")}}
	return &n, after, nil
}

// withSilentRefresh makes a Partner Center call and, when Partner Center refuses the access
// token (401), renews it once and tries again, before bothering the person.
func (h *Handlers) withSilentRefresh(c echo.Context, o pcclient.CallOptions, call func(pcclient.CallOptions) (pcclient.Profile, error)) (pcclient.Profile, error) {
	p, err := call(o)
	if pcclient.KindOf(err) != pcclient.KindUnauthenticated {
		return p, err
	}
	used, terr := o.Token.Token()
	if terr != nil {
		return p, err
	}
	if rerr := h.sessions.RefreshAfterRejection(c.Response(), c.Request(), used.AccessToken); rerr != nil {
		h.logger(c).Info("silent refresh after a refused token failed", "err", rerr)
		return p, rerr
	}
	return call(o)
}

// respondSaved answers a successful save: the fragment for htmx, a redirect with a one-time
// message for a plain POST (so reloading the page does not post again).
func (h *Handlers) respondSaved(c echo.Context, f profileForm, after contacts, n views.Notice) error {
	if !isHTMX(c) {
		b, _ := json.Marshal(n)
		if err := h.sessions.AddFlash(c.Response(), c.Request(), b); err != nil {
			h.logger(c).Warn("could not keep the saved message", "err", err)
		}
		return c.Redirect(http.StatusSeeOther, h.basePath)
	}
	f.typed, f.loaded, f.submission = after, after, newSubmissionID()
	return h.respondForm(c, http.StatusOK, f, nil, &n)
}

// respondConflict shows what changed since the form was loaded and offers the two ways on. The
// form now holds the person's own changes on top of the current values, so saving it never
// reverts a field only the colleague changed.
func (h *Handlers) respondConflict(c echo.Context, f profileForm, current contacts) error {
	l := h.loc(c)
	conflict := &views.Conflict{StartAgainURL: h.basePath}
	var merged contacts
	for _, s := range fieldSpecs {
		loaded, now, typed := f.loaded.get(s.name), current.get(s.name), f.typed.get(s.name)
		mine := typed != loaded
		value := now
		if mine {
			value = typed
		}
		merged.set(s.name, value)
		if loaded != now || mine {
			conflict.Rows = append(conflict.Rows, views.ConflictRow{Label: s.short(l), Loaded: loaded, Current: now, Typed: typed,
				Theirs: loaded != now, Mine: mine})
		}
	}
	n := views.Notice{Kind: views.NoticeError, Title: l.T("save.conflict.title"),
		Lines: []string{l.T("save.conflict.line1"), l.T("save.conflict.line2")}}
	f.typed, f.loaded, f.submission = merged, current, newSubmissionID()
	form := h.form(c, f.typed, f.loaded, nil)
	form.Submission, form.Notice, form.Conflict = f.submission, &n, conflict
	return h.renderForm(c, http.StatusConflict, form)
}

// tenantLockWait bounds how long a save waits for other saves of the same partner.
const tenantLockWait = 15 * time.Second // the default of Handlers.tenantLockWait

const (
	stepGet    = "get"
	stepUpdate = "update"
)

func (h *Handlers) respondUpstreamError(c echo.Context, f profileForm, err error, correlationID, step string, a *audit) error {
	var pe *pcclient.Error
	errors.As(err, &pe)
	if needsSignIn(err) {
		a.record("sign_in_required", http.StatusUnauthorized, nil)
		return h.keepAndSignIn(c, f)
	}
	ex := explain(h.loc(c), err, correlationID, step)
	status, code := 0, ""
	if pe != nil {
		status, code = pe.Status, pe.Code
		if pe.RequestID != "" {
			a.requestID = pe.RequestID
		}
	}
	a.recordUpstream("refused", ex.status, status, code)
	h.logger(c).Warn("save support profile failed", "step", step, "user", currentUser(c).Username, "correlation_id", correlationID, "err", err)
	if ex.retryIn > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(ex.retryIn))
	}
	var errs fieldErrors
	if ex.field != "" {
		errs = fieldErrors{ex.field: problem{id: "valid.refusedByPC"}}
	}
	if ex.signIn {
		h.addSignInAction(c, &ex.notice, ex.mfa)
	}
	ex.notice.Lines = append(ex.notice.Lines, h.loc(c).T("save.keepValues"))
	return h.respondForm(c, ex.status, f, errs, &ex.notice)
}

// keepAndSignIn keeps what the person typed on the server and sends them to sign in again; the
// form shows the values when they come back, and nothing is saved until they click Save.
func (h *Handlers) keepAndSignIn(c echo.Context, f profileForm) error {
	kept := url.Values{
		"email": {f.typed.Email}, "telephone": {f.typed.Telephone}, "website": {f.typed.Website},
		"loaded": {encodeLoaded(f.loaded)}, keptForKey: {currentUser(c).Subject},
	}
	if !f.loadedOK {
		kept.Del("loaded")
	}
	if err := h.sessions.KeepFormValues(c.Response(), c.Request(), kept); err != nil {
		h.logger(c).Warn("could not keep the typed values", "err", err)
	}
	return h.redirectToSignIn(c, h.basePath, false)
}

// keptForKey records whose values were kept, so that another person signing in on the same
// browser does not find them in their form.
const keptForKey = "kept_for"

// respondForm answers with the form as typed: the fragment for htmx, the whole page otherwise.
func (h *Handlers) respondForm(c echo.Context, status int, f profileForm, errs fieldErrors, n *views.Notice) error {
	form := h.form(c, f.typed, f.loaded, errs)
	form.Submission = f.submission
	form.Notice = n
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
	return render(c, status, views.ProfilePageView(views.ProfilePage{Page: h.page(c, title), Form: form}))
}
