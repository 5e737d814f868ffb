package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"pcsupport/internal/auth"
	"pcsupport/internal/views"
)

// HTTPErrorHandler is Echo's one error handler: every error that reaches it becomes a page (or,
// for htmx, a message in the page's alert area, leaving the form and its values alone).
func (h *Handlers) HTTPErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, key := http.StatusInternalServerError, "error.internal"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
	}
	switch {
	case errors.Is(err, auth.ErrSessionStoreUnavailable):
		status, key = http.StatusServiceUnavailable, "error.sessions"
	case isCSRFError(err):
		key = "error.csrf"
	case status == http.StatusNotFound:
		key = "error.notFound"
	case status == http.StatusMethodNotAllowed:
		key = "error.method"
	case status == http.StatusRequestEntityTooLarge:
		key = "error.tooLarge"
	case status >= 400 && status < 500:
		key = "error.badRequest"
	default:
		status = http.StatusInternalServerError
	}
	l := h.loc(c)
	n := errorNotice(l, key+".title", key+".line")
	if status >= 500 {
		h.logger(c).Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	} else {
		h.logger(c).Info("request refused", "method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "err", err)
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Retarget", "#alerts")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
		_ = render(c, status, views.NoticeView(n))
		return
	}
	if err := render(c, status, views.MessagePageView(views.MessagePage{Page: h.page(c, n.Title), Notice: n,
		Actions: []views.Action{{Label: l.T("action.goToProfile"), URL: h.basePath}}})); err != nil {
		h.logger(c).Error("render error page", "err", err)
		_ = c.String(status, n.Title)
	}
}

// errCSRF marks every refusal of the CSRF check, whichever way it was detected.
var errCSRF = echo.NewHTTPError(http.StatusForbidden, "CSRF check failed")

func isCSRFError(err error) bool { return errors.Is(err, errCSRF) }

// CSRF protects every state-changing request: a token in a hidden input (so it works without
// JavaScript) or in the X-CSRF-Token header (htmx sends it), and the browser's Sec-Fetch-Site.
func CSRF(basePath string, secure bool) echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		ContextKey:     csrfKey,
		CookieName:     "pcs_csrf",
		CookiePath:     basePath,
		CookieSecure:   secure,
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
		// The sign-in provider's redirect back is a cross-site GET: safe methods pass anyway.
		AllowSecFetchSiteFunc: func(echo.Context) (bool, error) { return false, errCSRF },
		ErrorHandler:          func(err error, _ echo.Context) error { return fmt.Errorf("%w: %v", errCSRF, err) },
	})
}
