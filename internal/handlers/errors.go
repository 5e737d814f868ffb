package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"pcsupport/internal/views"
)

// HTTPErrorHandler is Echo's one error handler: every error that reaches it becomes a page (or,
// for htmx, a message in the page's alert area, leaving the form and its values alone).
func (h *Handlers) HTTPErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, n := http.StatusInternalServerError, views.Notice{Kind: views.NoticeError}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
	}
	switch {
	case isCSRFError(err):
		n.Title = "This form has expired or did not come from this app."
		n.Lines = []string{"Nothing was saved. Reload the page, then make your change again."}
	case status == http.StatusNotFound:
		n.Title = "There is no page here."
		n.Lines = []string{"The link may be old. Go to the support profile page."}
	case status == http.StatusMethodNotAllowed:
		n.Title = "This page cannot be used that way."
		n.Lines = []string{"Go to the support profile page."}
	case status == http.StatusRequestEntityTooLarge:
		n.Title = "What was sent is too large."
		n.Lines = []string{"Nothing was saved. The fields are short: check that nothing was pasted by mistake, then try again."}
	case status >= 400 && status < 500:
		n.Title = "The request could not be understood."
		n.Lines = []string{"Nothing was saved. Reload the page and try again."}
	default:
		status = http.StatusInternalServerError
		n.Title = "Something went wrong in this app."
		n.Lines = []string{"Nothing was saved. Try again; if it keeps happening, tell whoever runs this app."}
	}
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
		Actions: []views.Action{{Label: "Go to the support profile", URL: h.basePath}}})); err != nil {
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
