package handlers

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

// saveProfile saves the form. It is the save's edge: it reads the request into a saveRequest,
// save decides what happens, recordSave writes it down, answerSave tells the person (also when
// the history could not be written). Only the first and the last see Echo.
func (h *Handlers) saveProfile(c echo.Context) error {
	in := h.readSaveRequest(c)
	res := h.save(in)
	res = h.recordSave(in, res)
	return h.answerSave(c, res)
}

// saveRequest is everything a save is decided from, read from the request by its edge.
type saveRequest struct {
	ctx      context.Context
	user     auth.User
	userErr  error // the session has ended (or could not be read): there is no user
	form     profileForm
	upstream upstreamCalls
	log      *slog.Logger // this request's, with its id
	audit    *slog.Logger
}

func (h *Handlers) readSaveRequest(c echo.Context) saveRequest {
	u, err := h.users.CurrentUser(c.Request())
	if err == nil {
		c.Set(userKey, u) // for the answer's page: its header, the line under the form
	}
	return saveRequest{ctx: workContext(c), user: u, userErr: err, form: readProfileForm(c),
		upstream: h.upstream(c), log: h.logger(c), audit: h.auditLog(c)}
}

// tenantLockWait bounds how long a save waits for other saves of the same partner.
const tenantLockWait = 15 * time.Second // the default of Handlers.tenantLockWait

// save validates the form, checks that nobody changed the profile since the form was loaded,
// merges the three fields into the profile as Partner Center has it now and PUTs the whole
// profile back. It answers nothing: the result says what happened.
func (h *Handlers) save(in saveRequest) saveResult {
	f := in.form
	res := saveResult{user: in.user, form: f, at: time.Now()}
	if in.userErr != nil {
		// The session ended before this form came back (or its store does not answer).
		return failed(res, in.userErr, stepSession)
	}
	if errs := h.validateForm(in.user.TenantID, f); len(errs) > 0 {
		res.outcome, res.invalid = outcomeInvalid, errs
		return res
	}
	switch {
	case res.user.MFAMissing():
		res.outcome = outcomeMFARequired
		return res
	case f.loadedOK && f.typed == f.loaded:
		res.outcome = outcomeUnchanged
		return res
	}
	tenant := historyTenant(res.user)
	if until, wait := h.throttles.waitUntil(tenant, res.at); wait {
		// Partner Center asked the partner to wait: nothing is sent before then.
		res.outcome = outcomeThrottled
		res.failure = failure{status: http.StatusTooManyRequests, key: "throttled", retryIn: secondsUntil(until, res.at)}
		return res
	}

	// One click, one change: a repeat of a form that is being or has been saved gets that outcome.
	key := res.user.Subject + "/" + f.submission
	claim, earlier, err := h.submissions.begin(in.ctx, key)
	if err != nil {
		res.outcome, res.err = outcomeFailed, err
		return res
	}
	if earlier != nil {
		res.outcome, res.current, res.stored = outcomeDuplicate, earlier.current, earlier.stored
		res.correlationID, res.requestID = earlier.correlationID, earlier.requestID
		return res
	}
	res = h.saveUpstream(in, res)
	if res.failure.key == "throttled" && res.failure.retryIn > 0 {
		h.throttles.note(tenant, res.failure.retryAt(time.Now()))
	}
	if res.outcome == outcomeAlreadyCurrent {
		if lp, ok := h.submissions.takeLost(key, *res.current); ok {
			res.confirms = &lp
		}
	}
	h.submissions.finish(key, claim, res)
	return res
}

// saveUpstream does the Partner Center part under the partner's lock, so that two saves in this
// app never interleave their check and their PUT.
func (h *Handlers) saveUpstream(in saveRequest, res saveResult) saveResult {
	f := res.form
	lockCtx, cancel := context.WithTimeout(in.ctx, h.tenantLockWait)
	unlock, err := h.tenantLocks.Lock(lockCtx, res.user.TenantID)
	cancel()
	if err != nil {
		res.outcome = outcomeBusy
		return res
	}
	defer unlock()

	pc := in.upstream
	res.correlationID = pcclient.NewID()
	res.started = time.Now() // before the check: another replica may notice this save's change from here on
	fetched, err := pc.get(res.correlationID)
	if err != nil {
		return failed(res, err, stepGet)
	}
	current := fetched.Contact
	res.current = &current
	switch {
	case current == f.typed:
		// Checked before the conflict: after a PUT whose answer was lost, the retry finds the
		// person's own values, which are no one else's change.
		res.outcome = outcomeAlreadyCurrent
		return res
	case f.loadedOK && current != f.loaded:
		res.outcome = outcomeConflict
		return res
	}

	res.requestID = f.submission // a repeated PUT of this form is the same operation upstream
	stored, err := pc.put(res.correlationID, res.requestID, fetched.WithContact(support.Contact{Email: f.typed.Email, Telephone: f.typed.Telephone, Website: f.typed.Website}))
	if err != nil {
		return failed(res, err, stepUpdate)
	}
	after := stored.Contact
	res.outcome, res.stored, res.at = outcomeSaved, &after, time.Now()
	return res
}

// failed is the result of a step that failed: what it means is classified here, once.
func failed(res saveResult, err error, step string) saveResult {
	res.err, res.step = err, step
	res.failure = classify(err, step)
	res.outcome = outcomeOfFailure(res.failure)
	if pe := (*pcclient.Error)(nil); errors.As(err, &pe) && pe.RequestID != "" {
		res.requestID = pe.RequestID
	}
	return res
}

// secondsUntil is how many whole seconds, rounded up, remain from now until t.
func secondsUntil(t, now time.Time) int {
	return int(math.Ceil(t.Sub(now).Seconds()))
}
