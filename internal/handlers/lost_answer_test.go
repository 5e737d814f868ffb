package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"pcsupport/internal/history"
	"pcsupport/internal/pcclient"
)

// A PUT was applied but its answer never came: the person is told the outcome is unknown and
// retries. The retry finds their own value upstream and says Partner Center already has it,
// not that someone else changed the profile; the audit trail says "unknown", then
// "already_current".
func TestRetryAfterALostAnswerIsNotAConflict(t *testing.T) {
	tb := newTestbed(t)
	form := tb.saveForm("telephone", "+1 425 555 0199")
	tb.pc.applied, tb.pc.putErrs = true, []error{&pcclient.Error{Kind: pcclient.KindUnavailable, Err: context.DeadlineExceeded}}
	if rec, _ := tb.request(http.MethodPost, "/save", form, "HX-Request", "true"); rec.Code != http.StatusGatewayTimeout ||
		!strings.Contains(rec.Body.String(), "may or may not have stored") {
		t.Fatalf("the lost answer: %d\n%s", rec.Code, rec.Body.String())
	}
	rec, _ := tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Partner Center already has these values") {
		t.Errorf("the retry: %d\n%s", rec.Code, rec.Body.String())
	}
	if strings.Contains(rec.Body.String(), "Someone else changed") {
		t.Error("the retry calls the person's own change someone else's")
	}
	if got := strings.Join(tb.auditOutcomes(), ","); got != "unknown,already_current" {
		t.Errorf("audit outcomes %v, want [unknown already_current]", got)
	}
}

// The PUT whose answer was lost is that person's save in the change history: the retry that
// finds their values upstream records it as theirs, with the lost PUT's ids, not as a change
// made outside the app.
func TestLostAnswerConfirmedByTheRetryIsTheirSave(t *testing.T) {
	store := openSQLiteHistory(t)
	tb := newTestbed(t, func(o *Options) { o.History = store })
	form := tb.saveForm("telephone", "+33 1 23 45 67 89")
	tb.pc.applied, tb.pc.putErrs = true, []error{&pcclient.Error{Kind: pcclient.KindUnavailable, Err: context.DeadlineExceeded}}
	tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
	rec, _ := tb.request(http.MethodPost, "/save", form, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("the retry: %d", rec.Code)
	}
	last, ok, err := store.LastChange(context.Background(), "tid-contoso")
	if err != nil || !ok || last.Kind != history.KindSaved || last.By.Name != "Ada Admin" || last.RequestID != form.Get("submission") ||
		last.Before.Telephone != "4255550100" || last.After.Telephone != "+33 1 23 45 67 89" {
		t.Errorf("the history's last change: %+v (ok %v, err %v), want Ada's save with the lost PUT's request id", last, ok, err)
	}
}
