package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

// lostAnswerProfiles stores a PUT but loses its answer the first time, as a timeout after
// Partner Center applied the change does.
type lostAnswerProfiles struct {
	fakeProfiles
	lost bool
}

func (f *lostAnswerProfiles) UpdateSupportProfile(ctx context.Context, o pcclient.CallOptions, p pcclient.Profile) (pcclient.Profile, error) {
	stored, err := f.fakeProfiles.UpdateSupportProfile(ctx, o, p)
	if err == nil && !f.lost {
		f.lost = true
		return pcclient.Profile{}, &pcclient.Error{Kind: pcclient.KindUnavailable, Err: context.DeadlineExceeded}
	}
	return stored, err
}

// A PUT was applied but its answer never came: the person is told the outcome is unknown and
// retries. The retry finds their own value upstream and says Partner Center already has it,
// not that someone else changed the profile; the audit trail says "unknown", then
// "already_current".
func TestRetryAfterALostAnswerIsNotAConflict(t *testing.T) {
	profiles := &lostAnswerProfiles{fakeProfiles: fakeProfiles{profile: pcclient.NewProfile(support.Contact{Email: "support@contoso.example", Telephone: "4255550100", Website: "www.contoso.example"})}}
	var audit bytes.Buffer
	h := New(fakeSessions{auth.User{Subject: "s", TenantID: "tid"}}.options(Options{Profiles: profiles, Assets: namesAsPaths{}, BasePath: "/",
		Audit: slog.New(slog.NewJSONHandler(&audit, nil))}))
	e := echo.New()
	e.HTTPErrorHandler = h.HTTPErrorHandler
	h.Register(e.Group(""))
	form := url.Values{"email": {"support@contoso.example"}, "telephone": {"+1 425 555 0199"}, "website": {"www.contoso.example"},
		"loaded": {encodeLoaded(support.Contact{Email: "support@contoso.example", Telephone: "4255550100", Website: "www.contoso.example"})}}

	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/save", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if rec := post(); rec.Code != http.StatusGatewayTimeout || !strings.Contains(rec.Body.String(), "may or may not have stored") {
		t.Fatalf("the lost answer: %d\n%s", rec.Code, rec.Body.String())
	}
	rec := post()
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Partner Center already has these values") {
		t.Errorf("the retry: %d\n%s", rec.Code, rec.Body.String())
	}
	if strings.Contains(rec.Body.String(), "Someone else changed") {
		t.Error("the retry calls the person's own change someone else's")
	}

	var outcomes []string
	for _, line := range strings.Split(strings.TrimSpace(audit.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["audit"] == "support_profile_save" {
			outcomes = append(outcomes, rec["outcome"].(string))
		}
	}
	if strings.Join(outcomes, ",") != "unknown,already_current" {
		t.Errorf("audit outcomes %v, want [unknown already_current]", outcomes)
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
