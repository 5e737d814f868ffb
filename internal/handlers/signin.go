package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"pcsupport/internal/auth"
	"pcsupport/internal/views"
)

// signIn sends the browser to the sign-in provider.
func (h *Handlers) signIn(c echo.Context) error {
	q := c.QueryParams()
	to, err := h.sessions.StartSignIn(c.Response(), c.Request(), q.Get("next"), auth.SignInOptions{RequireMFA: q.Get("mfa") == "1"})
	if err != nil {
		h.logger(c).Error("start sign-in", "err", err)
		return h.messagePage(c, http.StatusServiceUnavailable, "Sign-in is not available", views.Notice{Kind: views.NoticeError,
			Title: "The sign-in service cannot be reached right now.",
			Lines: []string{"This is usually temporary. Try again in a minute."}},
			views.Action{Label: "Try again", URL: c.Request().URL.RequestURI()})
	}
	return c.Redirect(http.StatusFound, to)
}

// callback finishes sign-in when the provider sends the browser back.
func (h *Handlers) callback(c echo.Context) error {
	returnTo, err := h.sessions.FinishSignIn(c.Response(), c.Request())
	if err == nil {
		return c.Redirect(http.StatusSeeOther, returnTo)
	}
	retry := views.Action{Label: "Try signing in again", URL: h.signInURL(returnTo, false)}
	var pe *auth.ProviderError
	switch {
	case errors.As(err, &pe):
		h.logger(c).Info("sign-in refused by the provider", "error", pe.Code, "description", pe.Description)
		return h.messagePage(c, http.StatusForbidden, "Sign-in did not complete", providerNotice(pe), retry)
	case errors.Is(err, auth.ErrSignInState):
		h.logger(c).Info("sign-in callback with an unknown, expired or used state")
		return h.messagePage(c, http.StatusBadRequest, "Sign-in link expired", views.Notice{Kind: views.NoticeError,
			Title: "This sign-in has expired or was already used.",
			Lines: []string{"Sign-in has to be finished within 10 minutes, once. Start again."}}, retry)
	default:
		h.logger(c).Error("sign-in callback failed", "err", err)
		status := http.StatusBadGateway
		if errors.As(err, new(*oauth2.RetrieveError)) {
			status = http.StatusBadRequest // the provider refused the code: used, expired or not ours
		}
		return h.messagePage(c, status, "Sign-in did not complete", views.Notice{Kind: views.NoticeError,
			Title: "Sign-in could not be completed.",
			Lines: []string{"The answer from the sign-in service could not be checked. Try again; if it keeps happening, tell whoever runs this app."}}, retry)
	}
}

// providerNotice explains the errors Entra ID (and other providers) send back to the callback.
func providerNotice(pe *auth.ProviderError) views.Notice {
	n := views.Notice{Kind: views.NoticeError, Details: []views.Detail{{Label: "Error", Value: pe.Code}}}
	if pe.Description != "" {
		n.Details = append(n.Details, views.Detail{Label: "Details", Value: pe.Description})
	}
	desc := pe.Description
	switch {
	case strings.Contains(desc, "AADSTS65001") || pe.Code == "consent_required":
		n.Title = "An administrator has to approve this app first."
		n.Lines = []string{"Your organisation has not yet given this app permission to use Partner Center for you. Ask a Global administrator to grant admin consent to the app in Microsoft Entra ID, then try again."}
	case strings.Contains(desc, "AADSTS50076") || strings.Contains(desc, "AADSTS50079") || strings.Contains(desc, "AADSTS50078"):
		n.Title = "Multi-factor authentication is needed."
		n.Lines = []string{"Sign in again and complete the multi-factor step."}
	case strings.Contains(desc, "AADSTS53003") || strings.Contains(desc, "AADSTS53000") || strings.Contains(desc, "AADSTS53001"):
		n.Title = "Your organisation's access policy blocked this sign-in."
		n.Lines = []string{"A Conditional Access policy does not allow this sign-in from this device or place. Try from a managed device or the company network, or ask your IT administrator."}
	case pe.Code == "access_denied":
		n.Title = "Sign-in was cancelled."
		n.Lines = []string{"You cancelled the sign-in, or it was declined. Nothing was changed. You can sign in again whenever you are ready."}
	case pe.Code == "interaction_required" || pe.Code == "login_required":
		n.Title = "The sign-in service needs you to sign in interactively."
		n.Lines = []string{"Try again and follow the steps on the sign-in page."}
	default:
		n.Title = "The sign-in service refused the sign-in."
		n.Lines = []string{"Try again. If it keeps happening, give the details below to your IT administrator."}
	}
	return n
}

// signOut ends the session on the server.
func (h *Handlers) signOut(c echo.Context) error {
	if err := h.sessions.SignOut(c.Response(), c.Request()); err != nil {
		h.logger(c).Warn("sign-out", "err", err)
	}
	return c.Redirect(http.StatusSeeOther, h.basePath+"auth/signed-out")
}

func (h *Handlers) signedOut(c echo.Context) error {
	return h.messagePage(c, http.StatusOK, "Signed out", views.Notice{Kind: views.NoticeInfo,
		Title: "You are signed out of this app.",
		Lines: []string{"Your session has ended here. To edit the support profile again, sign in."}},
		views.Action{Label: "Sign in", URL: h.signInURL(h.basePath, false)})
}

func (h *Handlers) messagePage(c echo.Context, status int, title string, n views.Notice, actions ...views.Action) error {
	return render(c, status, views.MessagePageView(views.MessagePage{Page: h.page(c, title), Notice: n, Actions: actions}))
}
