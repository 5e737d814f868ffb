package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"pcsupport/internal/auth"
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

// explain turns an error from a Partner Center call into an explanation. correlationID is the one
// this app sent, shown when Partner Center did not answer at all. step says which call failed:
// after a PUT that got no clear answer the change may or may not have been stored.
func explain(err error, correlationID, step string) explanation {
	if errors.Is(err, auth.ErrSignInRequired) || errors.Is(err, auth.ErrNotSignedIn) {
		return explanation{status: http.StatusUnauthorized, signIn: true, notice: views.Notice{Kind: views.NoticeError,
			Title: "Your sign-in has expired.",
			Lines: []string{"Sign in again to continue. Nothing was saved."}}}
	}
	var pe *pcclient.Error
	if !errors.As(err, &pe) {
		return explanation{status: http.StatusInternalServerError, notice: views.Notice{Kind: views.NoticeError,
			Title:   "Something went wrong in this app.",
			Lines:   []string{"Nothing was saved. Try again; if it keeps happening, give the reference below to whoever runs this app."},
			Details: []views.Detail{{Label: "Reference", Value: correlationID}}}}
	}
	e := explanation{notice: views.Notice{Kind: views.NoticeError, Details: details(pe, correlationID)}}
	n := &e.notice
	switch pe.Kind {
	case pcclient.KindInvalidInput:
		e.status, e.field = http.StatusUnprocessableEntity, pe.Field()
		n.Title = "Partner Center did not accept the values."
		n.Lines = []string{"Check the fields and save again. Partner Center said: " + orDash(pe.Description)}
	case pcclient.KindUnauthenticated:
		e.status, e.signIn = http.StatusUnauthorized, true
		n.Title = "Partner Center did not accept your sign-in."
		n.Lines = []string{"Sign in again, then save again. Nothing was saved."}
	case pcclient.KindMFARequired:
		e.status, e.signIn, e.mfa = http.StatusForbidden, true, true
		n.Title = "Partner Center requires multi-factor authentication."
		n.Lines = []string{"Sign in again with multi-factor authentication (for example the Authenticator app), then save again. Nothing was saved."}
	case pcclient.KindWrongAudience:
		e.status = http.StatusBadGateway
		n.Title = "This app is not set up correctly for Partner Center."
		n.Lines = []string{"Partner Center refused the app's token because it was issued for another service. There is nothing you can do here: give the details below to whoever runs this app (the Partner Center scope setting is wrong)."}
	case pcclient.KindForbidden:
		e.status = http.StatusForbidden
		n.Title = "Your Partner Center role may not change the support profile."
		n.Lines = []string{"Only a Global admin or an Account admin of your company (or an Admin agent) can change it. Ask one of them to make the change, or to give you one of those roles in Partner Center."}
	case pcclient.KindNotFound:
		e.status = http.StatusNotFound
		n.Title = "Partner Center has no support profile for your company yet."
		n.Lines = []string{"Set one up once in the Partner Center portal (Account settings), then come back here."}
	case pcclient.KindConflict:
		e.status = http.StatusConflict
		n.Title = "Someone else changed the support profile at the same time."
		n.Lines = []string{"Nothing was saved. Reload the page to see the current values, then make your change again."}
	case pcclient.KindThrottled:
		e.status = http.StatusTooManyRequests
		e.retryIn = int(math.Ceil(pe.RetryAfter.Seconds()))
		n.Title = "Partner Center is busy with too many requests from your company."
		if e.retryIn > 0 {
			n.Lines = []string{fmt.Sprintf("Wait %s, then try again. Nothing was saved.", seconds(e.retryIn))}
		} else {
			n.Lines = []string{"Wait a minute, then try again. Nothing was saved."}
		}
	case pcclient.KindUnavailable:
		e.status = http.StatusServiceUnavailable
		n.Title = "Partner Center is not answering right now."
		n.Lines = []string{"The app tried several times. This is usually temporary: try again in a few minutes. Nothing was saved."}
		if pe.Status == 0 {
			e.status = http.StatusGatewayTimeout
			n.Title = "Partner Center did not answer in time, or the connection to it failed."
		}
		if step == stepUpdate {
			n.Lines = []string{"Partner Center may or may not have stored your change. Open the page again in a few minutes to see the current values; press Save to try again (a repeated save is recognised and not applied twice)."}
		}
	case pcclient.KindBadResponse:
		e.status = http.StatusBadGateway
		n.Title = "Partner Center sent an answer this app could not read."
		n.Lines = []string{"Nothing was saved. Try again in a few minutes."}
		if step == stepUpdate {
			n.Lines = []string{"Partner Center may or may not have stored your change. Open the page again to see the current values, then try again if needed."}
		}
	default:
		e.status = http.StatusBadGateway
		n.Title = "Partner Center answered with an unexpected error."
		n.Lines = []string{"Try again in a few minutes. If it keeps happening, give the details below to Microsoft support."}
	}
	return e
}

// details are the facts Microsoft support asks for.
func details(pe *pcclient.Error, correlationID string) []views.Detail {
	var d []views.Detail
	if pe.Status != 0 {
		d = append(d, views.Detail{Label: "Status", Value: strconv.Itoa(pe.Status) + " " + http.StatusText(pe.Status)})
	}
	if pe.Code != "" {
		d = append(d, views.Detail{Label: "Partner Center code", Value: pe.Code})
	}
	d = append(d, views.Detail{Label: "Correlation id", Value: firstOf(pe.CorrelationID, correlationID), Copy: true})
	if pe.RequestID != "" {
		d = append(d, views.Detail{Label: "Request id", Value: pe.RequestID})
	}
	return d
}

func seconds(n int) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}

func orDash(s string) string {
	if s == "" {
		return "(no reason given)"
	}
	return s
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
