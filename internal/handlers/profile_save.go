package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/pcclient"
)

// saveProfile saves the form: save decides what happens, recordSave writes it down, answerSave
// tells the person (also when the history could not be written).
func (h *Handlers) saveProfile(c echo.Context) error {
	res := h.save(c, readProfileForm(c))
	res = h.recordSave(c, res)
	return h.answerSave(c, res)
}

// tenantLockWait bounds how long a save waits for other saves of the same partner.
const tenantLockWait = 15 * time.Second // the default of Handlers.tenantLockWait

// save validates the form, checks that nobody changed the profile since the form was loaded,
// merges the three fields into the profile as Partner Center has it now and PUTs the whole
// profile back. It answers nothing: the result says what happened.
func (h *Handlers) save(c echo.Context, f profileForm) saveResult {
	res := saveResult{user: currentUser(c), form: f, at: time.Now()}
	if errs := h.validateForm(c, f); len(errs) > 0 {
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

	// One click, one change: a repeat of a form that is being or has been saved gets that outcome.
	key := res.user.Subject + "/" + f.submission
	claim, earlier, err := h.submissions.begin(c.Request().Context(), key)
	if err != nil {
		res.outcome, res.err = outcomeFailed, err
		return res
	}
	if earlier != nil {
		res.outcome, res.current, res.stored = outcomeDuplicate, earlier.current, earlier.stored
		res.correlationID, res.requestID = earlier.correlationID, earlier.requestID
		return res
	}
	res = h.saveUpstream(c, res)
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
func (h *Handlers) saveUpstream(c echo.Context, res saveResult) saveResult {
	f := res.form
	lockCtx, cancel := context.WithTimeout(c.Request().Context(), h.tenantLockWait)
	unlock, err := h.tenantLocks.Lock(lockCtx, res.user.TenantID)
	cancel()
	if err != nil {
		res.outcome = outcomeBusy
		return res
	}
	defer unlock()

	pc := h.upstream(c)
	res.correlationID = pcclient.NewID()
	res.started = time.Now() // before the check: another replica may notice this save's change from here on
	fetched, err := pc.get(res.correlationID)
	if err != nil {
		return failed(res, err, stepGet)
	}
	current := contactsOf(fetched)
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
	stored, err := pc.put(res.correlationID, res.requestID, fetched.WithContacts(f.typed.Email, f.typed.Telephone, f.typed.Website))
	if err != nil {
		return failed(res, err, stepUpdate)
	}
	after := contactsOf(stored)
	res.outcome, res.stored, res.at = outcomeSaved, &after, time.Now()
	return res
}

func failed(res saveResult, err error, step string) saveResult {
	res.err, res.step = err, step
	res.outcome = outcomeOfFailure(classify(err, step))
	if pe := (*pcclient.Error)(nil); errors.As(err, &pe) && pe.RequestID != "" {
		res.requestID = pe.RequestID
	}
	return res
}
