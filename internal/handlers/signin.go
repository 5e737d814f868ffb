package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"pcsupport/internal/auth"
	"pcsupport/internal/i18n"
	"pcsupport/internal/logline"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/views"
)

// startSignIn sends the browser to the sign-in provider.
func (h *Handlers) startSignIn(c echo.Context) error {
	q := c.QueryParams()
	to, err := h.signIn.StartSignIn(c.Response(), c.Request(), q.Get("next"), auth.SignInOptions{RequireMFA: q.Get("mfa") == "1"})
	if err != nil {
		logline.Add(c.Request().Context(), slog.String("problem", "sign-in could not start"), logline.Err(err))
		logline.AtLeast(c.Request().Context(), slog.LevelError)
		l := h.loc(c)
		return h.messagePage(c, http.StatusServiceUnavailable, l.T("signin.unavailable.page"),
			noticeOf(views.NoticeError, l, "signin.unavailable.title", "signin.unavailable.line"),
			views.Action{Label: l.T("form.tryAgain"), URL: c.Request().URL.RequestURI()})
	}
	return c.Redirect(http.StatusFound, to)
}

// callback finishes sign-in when the provider sends the browser back.
func (h *Handlers) callback(c echo.Context) error {
	returnTo, err := h.signIn.FinishSignIn(c.Response(), c.Request())
	if err == nil {
		return c.Redirect(http.StatusSeeOther, returnTo)
	}
	l := h.loc(c)
	ctx := c.Request().Context()
	retry := views.Action{Label: l.T("signin.retry"), URL: h.signInURL(returnTo, false)}
	var pe *auth.ProviderError
	switch {
	case errors.As(err, &pe):
		logline.Add(ctx, slog.String("problem", "sign-in refused by the provider"),
			logline.Cut("error", pe.Code), logline.Cut("description", pe.Description))
		return h.messagePage(c, http.StatusForbidden, l.T("signin.incomplete.page"), providerNotice(l, pe), retry)
	case errors.Is(err, auth.ErrSignInState):
		if _, err := h.users.CurrentUser(c.Request()); err == nil {
			// Another tab's sign-in finished first (tabs restored at once share cookies, so only
			// the newest few sign-ins are remembered): this one has nothing left to do.
			return c.Redirect(http.StatusSeeOther, h.basePath)
		}
		logline.Add(ctx, slog.String("problem", "sign-in callback with an unknown, expired or used state"))
		return h.messagePage(c, http.StatusBadRequest, l.T("signin.state.page"), noticeOf(views.NoticeError, l, "signin.state.title", "signin.state.line"), retry)
	default:
		logline.Add(ctx, slog.String("problem", "sign-in callback failed"), logline.Err(err))
		status := http.StatusBadGateway
		if errors.As(err, new(*oauth2.RetrieveError)) {
			status = http.StatusBadRequest // the provider refused the code: used, expired or not ours
		} else {
			logline.AtLeast(ctx, slog.LevelError) // the provider or the app failed, not the request
		}
		return h.messagePage(c, status, l.T("signin.incomplete.page"), noticeOf(views.NoticeError, l, "signin.failed.title", "signin.failed.line"), retry)
	}
}

// providerNotice explains the errors Entra ID (and other providers) send back to the callback.
func providerNotice(l *i18n.Localizer, pe *auth.ProviderError) views.Notice {
	desc := pe.Description
	var key string
	switch {
	case strings.Contains(desc, "AADSTS65001") || pe.Code == "consent_required":
		key = "provider.consent"
	case strings.Contains(desc, "AADSTS50076") || strings.Contains(desc, "AADSTS50079") || strings.Contains(desc, "AADSTS50078"):
		key = "provider.mfa"
	case strings.Contains(desc, "AADSTS53003") || strings.Contains(desc, "AADSTS53000") || strings.Contains(desc, "AADSTS53001"):
		key = "provider.conditionalAccess"
	case pe.Code == "access_denied":
		key = "provider.cancelled"
	case pe.Code == "interaction_required" || pe.Code == "login_required":
		key = "provider.interaction"
	default:
		key = "provider.other"
	}
	n := noticeOf(views.NoticeError, l, key+".title", key+".line")
	n.Details = []views.Detail{{Label: l.T("detail.error"), Value: pe.Code}}
	if desc != "" {
		n.Details = append(n.Details, views.Detail{Label: l.T("detail.details"), Value: desc})
	}
	return n
}

// signOut ends the session on the server, then, when the app is set to, sends the person to the
// provider to be signed out there too; the provider sends them back to the signed-out page.
// When the session store did not answer, this browser is signed out all the same and the page
// says that the server will delete the session once the store answers.
func (h *Handlers) signOut(c echo.Context) error {
	to := h.signIn.ProviderSignOutURL(c.Request()) // asked first: the session names whom to sign out
	err := h.signIn.SignOut(c.Response(), c.Request())
	if errors.Is(err, sessionstore.ErrNotDeleted) {
		ctx := c.Request().Context()
		logline.Add(ctx, slog.String("problem", "session not deleted at sign-out; it will be once the store answers"), logline.Err(err))
		logline.AtLeast(ctx, slog.LevelWarn)
		l := h.loc(c)
		n := noticeOf(views.NoticeInfo, l, "signedOut.title", "signedOut.notDeleted.line")
		actions := []views.Action{{Label: l.T("action.signIn"), URL: h.signInURL(h.basePath, false)}}
		if to != "" {
			actions = append([]views.Action{{Label: l.T("signedOut.providerToo"), URL: to}}, actions...)
		}
		return h.messagePage(c, http.StatusOK, l.T("signedOut.page"), n, actions...)
	}
	if err != nil {
		logline.Add(c.Request().Context(), slog.String("problem", "sign-out"), logline.Err(err))
	}
	if to == "" {
		to = h.basePath + "auth/signed-out"
	}
	return c.Redirect(http.StatusSeeOther, to)
}

func (h *Handlers) signedOut(c echo.Context) error {
	l := h.loc(c)
	n := noticeOf(views.NoticeInfo, l, "signedOut.title", "signedOut.line")
	return h.messagePage(c, http.StatusOK, l.T("signedOut.page"), n, views.Action{Label: l.T("action.signIn"), URL: h.signInURL(h.basePath, false)})
}
