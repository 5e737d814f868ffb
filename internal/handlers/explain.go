package handlers

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"pcsupport/internal/auth"
	"pcsupport/internal/i18n"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/views"
)

// explanation is what a person is told about a failed Partner Center call: the one place where
// upstream failures become words and statuses.
type explanation struct {
	status  int // the status this app answers with
	notice  views.Notice
	field   string // the form field Partner Center refused, if it named one
	signIn  bool   // the person must sign in again
	mfa     bool   // ... with multi-factor authentication
	retryIn int    // seconds to wait, for Retry-After
}

// explain turns an error from a Partner Center call into an explanation in the person's
// language. correlationID is the one this app sent, shown when Partner Center did not answer at
// all. step says which call failed: after a PUT that got no clear answer the change may or may
// not have been stored.
func explain(l *i18n.Localizer, err error, correlationID, step string) explanation {
	say := func(title, line string) views.Notice {
		return views.Notice{Kind: views.NoticeError, Title: l.T(title), Lines: []string{l.T(line)}}
	}
	if needsSignIn(err) {
		return explanation{status: http.StatusUnauthorized, signIn: true, notice: say("explain.signInExpired.title", "explain.signInExpired.line")}
	}
	var pe *pcclient.Error
	if !errors.As(err, &pe) {
		n := say("explain.internal.title", "explain.internal.line")
		n.Details = []views.Detail{{Label: l.T("detail.reference"), Value: correlationID, Copy: true}}
		return explanation{status: http.StatusInternalServerError, notice: n}
	}
	var e explanation
	switch pe.Kind {
	case pcclient.KindInvalidInput:
		e.status, e.field = http.StatusUnprocessableEntity, pe.Field()
		reason := pe.Description
		if reason == "" {
			reason = l.T("explain.noReason")
		}
		e.notice = views.Notice{Kind: views.NoticeError, Title: l.T("explain.invalid.title"), Lines: []string{l.T("explain.invalid.line", "Reason", reason)}}
	case pcclient.KindUnauthenticated:
		e.status, e.signIn = http.StatusUnauthorized, true
		e.notice = say("explain.unauthenticated.title", "explain.unauthenticated.line")
	case pcclient.KindMFARequired:
		e.status, e.signIn, e.mfa = http.StatusForbidden, true, true
		e.notice = say("explain.mfa.title", "explain.mfa.line")
	case pcclient.KindWrongAudience:
		e.status = http.StatusBadGateway
		e.notice = say("explain.audience.title", "explain.audience.line")
	case pcclient.KindForbidden:
		e.status = http.StatusForbidden
		e.notice = say("explain.forbidden.title", "explain.forbidden.line")
	case pcclient.KindNotFound:
		e.status = http.StatusNotFound
		e.notice = say("explain.notFound.title", "explain.notFound.line")
	case pcclient.KindConflict:
		e.status = http.StatusConflict
		e.notice = say("explain.conflict.title", "explain.conflict.line")
	case pcclient.KindThrottled:
		e.status = http.StatusTooManyRequests
		e.retryIn = int(math.Ceil(pe.RetryAfter.Seconds()))
		e.notice = say("explain.throttled.title", "explain.throttled.minute")
		if e.retryIn > 0 {
			e.notice.Lines = []string{l.T("explain.throttled.wait", "Count", e.retryIn)}
		}
	case pcclient.KindUnavailable:
		e.status = http.StatusServiceUnavailable
		e.notice = say("explain.unavailable.title", "explain.unavailable.line")
		if pe.Status == 0 {
			e.status = http.StatusGatewayTimeout
			e.notice.Title = l.T("explain.timeout.title")
		}
		if step == stepUpdate {
			e.notice.Lines = []string{l.T("explain.maybeSaved.retry")}
		}
	case pcclient.KindBadResponse:
		e.status = http.StatusBadGateway
		e.notice = say("explain.badResponse.title", "explain.badResponse.line")
		if step == stepUpdate {
			e.notice.Lines = []string{l.T("explain.maybeSaved.reload")}
		}
	default:
		e.status = http.StatusBadGateway
		e.notice = say("explain.unknown.title", "explain.unknown.line")
	}
	e.notice.Details = details(l, pe, correlationID)
	return e
}

// needsSignIn reports that the session ended or its tokens can no longer be renewed: only a new
// sign-in helps.
func needsSignIn(err error) bool {
	return errors.Is(err, auth.ErrSignInRequired) || errors.Is(err, auth.ErrNotSignedIn)
}

// details are the facts Microsoft support asks for.
func details(l *i18n.Localizer, pe *pcclient.Error, correlationID string) []views.Detail {
	var d []views.Detail
	if pe.Status != 0 {
		status := strconv.Itoa(pe.Status)
		if l.Code == "en" { // Go knows the reason phrases in English only
			status += " " + http.StatusText(pe.Status)
		}
		d = append(d, views.Detail{Label: l.T("detail.status"), Value: status})
	}
	if pe.Code != "" {
		d = append(d, views.Detail{Label: l.T("detail.code"), Value: pe.Code})
	}
	d = append(d, views.Detail{Label: l.T("detail.correlation"), Value: firstOf(pe.CorrelationID, correlationID), Copy: true})
	if pe.RequestID != "" {
		d = append(d, views.Detail{Label: l.T("detail.request"), Value: pe.RequestID})
	}
	return d
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
