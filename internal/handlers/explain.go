package handlers

import (
	"cmp"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"pcsupport/internal/auth"
	"pcsupport/internal/i18n"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/views"
)

// failure is what a failed call means for the person, before it is put into words: the status
// this app answers with and what the person can do. classify is the one place that decides it;
// explain puts it into words.
type failure struct {
	status     int
	key        string // the catalogue messages explain.<key>.title and .line
	field      string // the form field Partner Center refused, if it named one
	signIn     bool   // the person must sign in again
	mfa        bool   // ... with multi-factor authentication
	retryIn    int    // seconds to wait, for Retry-After
	maybeSaved bool   // a PUT got no clear answer: the change may or may not have been stored
	upstream   *pcclient.Error
}

// The steps of a save that can fail.
const (
	stepSession = "session" // reading who is signed in
	stepGet     = "get"
	stepUpdate  = "update"
)

// classify decides what a failed call means. step says which call failed: after a PUT that got
// no clear answer the change may or may not have been stored.
func classify(err error, step string) failure {
	switch {
	case needsSignIn(err):
		return failure{status: http.StatusUnauthorized, key: "signInExpired", signIn: true}
	case errors.Is(err, auth.ErrSignInProviderUnavailable):
		return failure{status: http.StatusServiceUnavailable, key: "signInProvider"}
	case errors.Is(err, sessionstore.ErrUnavailable):
		return failure{status: http.StatusServiceUnavailable, key: "sessions"}
	}
	var pe *pcclient.Error
	if !errors.As(err, &pe) {
		return failure{status: http.StatusInternalServerError, key: "internal"}
	}
	f := failure{upstream: pe}
	switch pe.Kind {
	case pcclient.KindInvalidInput:
		f.status, f.key, f.field = http.StatusUnprocessableEntity, "invalid", pe.Field()
	case pcclient.KindUnauthenticated:
		f.status, f.key, f.signIn = http.StatusUnauthorized, "unauthenticated", true
	case pcclient.KindMFARequired:
		f.status, f.key, f.signIn, f.mfa = http.StatusForbidden, "mfa", true, true
	case pcclient.KindWrongAudience:
		f.status, f.key = http.StatusBadGateway, "audience"
	case pcclient.KindForbidden:
		f.status, f.key = http.StatusForbidden, "forbidden"
		if step == stepGet {
			f.key = "forbiddenRead" // a refused read: the role may not even see the profile
		}
	case pcclient.KindNotFound:
		f.status, f.key = http.StatusNotFound, "notFound"
	case pcclient.KindConflict:
		f.status, f.key = http.StatusConflict, "conflict"
	case pcclient.KindThrottled:
		f.status, f.key, f.retryIn = http.StatusTooManyRequests, "throttled", int(math.Ceil(pe.RetryAfter.Seconds()))
	case pcclient.KindUnavailable:
		f.status, f.key, f.maybeSaved = http.StatusServiceUnavailable, "unavailable", step == stepUpdate
		if pe.Status == 0 {
			f.status = http.StatusGatewayTimeout
		}
	case pcclient.KindBadResponse:
		f.status, f.key, f.maybeSaved = http.StatusBadGateway, "badResponse", step == stepUpdate
	default:
		f.status, f.key = http.StatusBadGateway, "unknown"
	}
	return f
}

// retryAt is when the wait Partner Center asked for ends, counted from now.
func (f failure) retryAt(now time.Time) time.Time {
	return now.Add(time.Duration(f.retryIn) * time.Second)
}

// explanation is a failure put into words in the person's language.
type explanation struct {
	failure
	notice views.Notice
}

// answerTo is what a failure's words answer: a save (then they say what became of the values and
// of the Save button) or a page being loaded, at a moment, for a person in a time zone.
type answerTo struct {
	save bool
	now  time.Time
	zone *time.Location
}

// explain turns an error from a Partner Center call into what a person reads. correlationID is
// the one this app sent, shown when Partner Center did not answer at all.
func explain(l *i18n.Localizer, err error, correlationID, step string, to answerTo) explanation {
	return describe(l, classify(err, step), correlationID, to)
}

// describe puts a classified failure into words: a title saying what happened and one line with
// the next step that can help.
func describe(l *i18n.Localizer, f failure, correlationID string, to answerTo) explanation {
	title, line := "explain."+f.key+".title", "explain."+f.key+".line"
	var args []any
	switch {
	case f.key == "invalid":
		args = []any{"Reason", cmp.Or(f.upstream.Description, l.T("explain.noReason"))}
		if !to.save {
			line = "explain.invalid.loadLine" // no field to correct on a page being loaded
		}
	case f.key == "throttled" && f.retryIn > 0:
		line = "explain.throttled.untilLoad"
		if to.save {
			line = "explain.throttled.until"
		}
		args = []any{"Time", clockTime(l, f.retryAt(to.now), cmp.Or(to.zone, time.UTC), to.now)}
	case f.key == "throttled":
		line = "explain.throttled.minute"
	case f.key == "unavailable" && f.status == http.StatusGatewayTimeout:
		title = "explain.timeout.title"
	case f.key == "sessions":
		title, line = "error.sessions.title", "error.sessions.line" // the words of the error page
	}
	switch {
	case f.maybeSaved && f.key == "unavailable":
		line, args = "explain.maybeSaved.retry", nil
	case f.maybeSaved:
		line, args = "explain.maybeSaved.reload", nil
	}
	n := views.Notice{Kind: views.NoticeError, Title: l.T(title), Lines: []string{l.T(line, args...)}}
	switch f.key {
	case "forbidden":
		n.Actions = append(n.Actions, microsoftPage(l, "roles"))
	case "mfa":
		n.Actions = append(n.Actions, microsoftPage(l, "mfa"))
	}
	if f.upstream != nil {
		n.Details = details(l, f.upstream, correlationID)
	} else if !f.signIn && correlationID != "" {
		n.Details = []views.Detail{{Label: l.T("detail.reference"), Value: correlationID, Copy: true}}
	}
	return explanation{failure: f, notice: n}
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
		// The reason phrase in the page's language; a status the catalogue lacks goes without.
		if reason, ok := l.Lookup("status." + status); ok {
			status += " " + reason
		}
		d = append(d, views.Detail{Label: l.T("detail.status"), Value: status})
	}
	if pe.Code != "" {
		d = append(d, views.Detail{Label: l.T("detail.code"), Value: pe.Code})
	}
	d = append(d, views.Detail{Label: l.T("detail.correlation"), Value: cmp.Or(pe.CorrelationID, correlationID), Copy: true})
	if pe.RequestID != "" {
		d = append(d, views.Detail{Label: l.T("detail.request"), Value: pe.RequestID})
	}
	return d
}

// microsoftPage links to Microsoft's page on a topic (link.<topic> and link.<topic>.url in the
// catalogue: each language links to Microsoft's page in that language).
func microsoftPage(l *i18n.Localizer, topic string) views.Action {
	return views.Action{Label: l.T("link." + topic), URL: l.T("link." + topic + ".url"), External: true}
}
