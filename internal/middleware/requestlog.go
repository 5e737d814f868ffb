package middleware

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// RequestMetrics counts answered requests by route (internal/metrics).
type RequestMetrics interface {
	RequestStarted() (done func())
	ObserveRequest(route, method string, status int, d time.Duration)
}

// ObserveRequests logs one line per request and records it in the metrics, by route pattern. The
// error, if any, is handed to the error handler here, so that the status logged is the one sent.
// The query string is never logged: the sign-in callback's carries the authorization code.
// Probes and scrapes are logged at debug: every few seconds, they would drown the rest.
func ObserveRequests(log *slog.Logger, m RequestMetrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			done := m.RequestStarted()
			defer done()
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
			level := slog.LevelInfo
			if strings.HasSuffix(route, "healthz") || strings.HasSuffix(route, "readyz") || strings.HasSuffix(route, "metrics") {
				level = slog.LevelDebug
			}
			if !log.Enabled(req.Context(), level) {
				return nil
			}
			attrs := []slog.Attr{
				slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.String("route", route),
				slog.Int("status", res.Status), slog.Duration("duration", d), slog.Int64("bytes", res.Size),
				slog.String("client_ip", c.RealIP()),
			}
			if id := res.Header().Get(echo.HeaderXRequestID); id != "" {
				attrs = append(attrs, slog.String("request_id", id))
			}
			log.LogAttrs(req.Context(), level, "request", attrs...)
			return nil
		}
	}
}
