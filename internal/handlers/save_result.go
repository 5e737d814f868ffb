package handlers

import (
	"net/http"
	"time"

	"pcsupport/internal/auth"
	"pcsupport/internal/support"
)

// saveOutcome is what a save attempt came to, in one word: the word of the audit record and the
// metric's label.
type saveOutcome string

const (
	outcomeSaved          saveOutcome = "saved"
	outcomeDuplicate      saveOutcome = "duplicate"       // a repeat of a form already saved: its outcome again
	outcomeUnchanged      saveOutcome = "unchanged"       // the form was sent as it was loaded
	outcomeAlreadyCurrent saveOutcome = "already_current" // Partner Center already has the typed values
	outcomeInvalid        saveOutcome = "invalid"
	outcomeMFARequired    saveOutcome = "mfa_required"
	outcomeBusy           saveOutcome = "busy" // other saves of the partner held the way too long
	outcomeConflict       saveOutcome = "conflict"
	outcomeSignInRequired saveOutcome = "sign_in_required"
	outcomeRefused        saveOutcome = "refused"   // Partner Center answered with an error
	outcomeUnknown        saveOutcome = "unknown"   // the PUT got no clear answer: it may have been applied
	outcomeFailed         saveOutcome = "failed"    // something on the way failed (the sign-in provider, this app)
	outcomeThrottled      saveOutcome = "throttled" // not sent: Partner Center asked the partner to wait
)

// saveResult is what one save attempt came to. save decides it and answers nothing; answerSave
// turns it into the answer; recordSave makes the history entry, the audit record and the metric
// from it; a saved
// result is what a repeated submission and the page after a redirect are given.
type saveResult struct {
	outcome saveOutcome
	user    auth.User
	form    profileForm
	invalid fieldErrors // outcomeInvalid: what is wrong with which field

	current *support.Contact // what Partner Center had at the check; nil when no check was made
	stored  *support.Contact // what Partner Center stored (saved, duplicate)

	err     error   // the failed step's error
	step    string  // which step failed: stepSession, stepGet or stepUpdate
	failure failure // what err means (classify), set with it

	correlationID string    // of the check and the PUT
	requestID     string    // the PUT's MS-RequestId (the form's submission id), or Partner Center's on a failure
	started       time.Time // just before the check; zero when no check was made
	at            time.Time // when the save began, or when Partner Center confirmed it (saved)

	// confirms is the PUT of an earlier attempt of this form whose answer was lost, when this
	// retry found its values upstream (outcomeAlreadyCurrent): the change is that PUT's.
	confirms *lostPut
	// historyNotRecorded is set by recordSave when a confirmed save could not be written to the
	// change history; the answer says so.
	historyNotRecorded bool
}

// status is the HTTP status the answer carries.
func (r saveResult) status() int {
	switch r.outcome {
	case outcomeInvalid:
		return http.StatusUnprocessableEntity
	case outcomeMFARequired:
		return http.StatusForbidden
	case outcomeBusy:
		return http.StatusServiceUnavailable
	case outcomeConflict:
		return http.StatusConflict
	case outcomeSignInRequired, outcomeRefused, outcomeUnknown, outcomeFailed, outcomeThrottled:
		return r.failure.status
	}
	return http.StatusOK
}

// outcomeOfFailure names a failed call's outcome.
func outcomeOfFailure(f failure) saveOutcome {
	switch {
	case f.signIn && f.upstream == nil:
		return outcomeSignInRequired
	case f.maybeSaved:
		return outcomeUnknown
	case f.upstream != nil:
		return outcomeRefused
	}
	return outcomeFailed
}
