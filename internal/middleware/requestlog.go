package middleware

import (
	"errors"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/logline"
)

// RequestMetrics counts answered requests by route (internal/metrics).
type RequestMetrics interface {
	RequestStarted() (done func())
	ObserveRequest(route, method string, status int, d time.Duration)
}

// ObserveRequests records every request in the metrics, by route pattern, and logs one line per
// request: a refused one (4xx) at info, a failed one (5xx) at warn, one that went well at debug
// (the metrics count those, every save has its audit record, and at info a line per page view
// was a few percent of its CPU). Handlers add what they know to that line (internal/logline)
// rather than write lines of their own. The error, if any, is handed to the error handler here,
// so that the status logged is the one sent. The query string is never logged: the sign-in
// callback's carries the authorization code.
func ObserveRequests(log *slog.Logger, m RequestMetrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			done := m.RequestStarted()
			defer done()
			ctx := logline.Start(c.Request().Context())
			c.SetRequest(c.Request().WithContext(ctx))
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			d := time.Since(start)
			req, res := c.Request(), c.Response()
			route := c.Path()
			if errors.Is(err, echo.ErrNotFound) || route == "" {
				route = "unmatched" // any URL at all: keep it out of the labels
			}
			m.ObserveRequest(route, req.Method, res.Status, d)
			added, level := logline.Of(ctx)
			switch {
			case res.Status >= 500:
				level = max(level, slog.LevelWarn)
			case res.Status >= 400:
				level = max(level, slog.LevelInfo)
			}
			if !log.Enabled(ctx, level) {
				return nil
			}
			attrs := []slog.Attr{
				logline.Cut("method", req.Method), logline.Cut("path", req.URL.Path), slog.String("route", route),
				slog.Int("status", res.Status), slog.Duration("duration", d), slog.Int64("bytes", res.Size),
				slog.String("client_ip", c.RealIP()),
			}
			if id := res.Header().Get(echo.HeaderXRequestID); id != "" {
				attrs = append(attrs, logline.Cut("request_id", id)) // from a trusted proxy, or made here
			}
			log.LogAttrs(ctx, level, "request", append(attrs, added...)...)
			return nil
		}
	}
}
