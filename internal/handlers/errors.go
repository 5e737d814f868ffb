package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/i18n"
	"pcsupport/internal/logline"
	"pcsupport/internal/sessionstore"
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
	case errors.Is(err, sessionstore.ErrUnavailable):
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
	n := noticeOf(views.NoticeError, l, key+".title", key+".line")
	ctx := c.Request().Context()
	logline.Add(ctx, logline.Err(err))
	if status >= 500 {
		logline.AtLeast(ctx, slog.LevelError)
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Retarget", "#alerts")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
		_ = render(c, status, views.NoticeView(n))
		return
	}
	if err := h.messagePage(c, status, n.Title, n, views.Action{Label: l.T("action.goToProfile"), URL: h.basePath}); err != nil {
		h.logger(c).Error("render error page", "err", err)
		_ = c.String(status, n.Title)
	}
}

// noticeOf is a notice of a title and one line, both catalogue messages.
func noticeOf(kind views.NoticeKind, l *i18n.Localizer, title, line string) views.Notice {
	return views.Notice{Kind: kind, Title: l.T(title), Lines: []string{l.T(line)}}
}

func (h *Handlers) messagePage(c echo.Context, status int, title string, n views.Notice, actions ...views.Action) error {
	return render(c, status, views.MessagePageView(views.MessagePage{Page: h.page(c, title), Notice: n, Actions: actions}))
}
