package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
	"pcsupport/internal/config"
	"pcsupport/internal/handlers"
	"pcsupport/internal/metrics"
)

// readinessCheck is one thing the app needs before it can serve people.
type readinessCheck struct {
	name  string
	check func(context.Context) error
	// informational: a failure is reported but the app stays ready (it serves without it, and an
	// outage shared by every replica must not take them all out of service).
	informational bool
}

// readyz answers 200 when every check passes (informational ones aside) and 503 otherwise, one
// line per check. The reasons go to the log, not to the answer: /readyz needs no session.
func readyz(checks []readinessCheck, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		errs := make([]error, len(checks))
		var wg sync.WaitGroup
		for i, rc := range checks {
			wg.Go(func() { errs[i] = rc.check(ctx) })
		}
		wg.Wait()
		status := http.StatusOK
		var b strings.Builder
		for i, rc := range checks {
			switch {
			case errs[i] != nil && rc.informational:
				fmt.Fprintf(&b, "%s: failing (the app serves without it)\n", rc.name)
				log.Warn("failing, ready anyway", "check", rc.name, "err", errs[i])
				continue
			case errs[i] != nil:
				status = http.StatusServiceUnavailable
				fmt.Fprintf(&b, "%s: not ready\n", rc.name)
				log.Warn("not ready", "check", rc.name, "err", errs[i])
				continue
			}
			fmt.Fprintf(&b, "%s: ok\n", rc.name)
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.String(status, b.String())
	}
}

func healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, "ok")
}

// healthcheck is `web healthcheck`: the container's HEALTHCHECK, in an image without a shell or
// curl. It asks the running app's /healthz over loopback and fails unless it answers 200.
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	u, err := config.HealthURL(getenv)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}} // never through an HTTP proxy
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", u, resp.Status)
	}
	fmt.Fprintf(stdout, "healthy: %s\n", u)
	return nil
}

// observeRequests logs one line per request and records it in the metrics, by route pattern. The
// error, if any, is handed to the error handler here, so that the status logged is the one sent.
// The query string is never logged: the sign-in callback's carries the authorization code.
func observeRequests(log *slog.Logger, m *metrics.Metrics) echo.MiddlewareFunc {
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
			attrs := []slog.Attr{
				slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.String("route", route),
				slog.Int("status", res.Status), slog.Duration("duration", d), slog.Int64("bytes", res.Size),
				slog.String("client_ip", c.RealIP()),
			}
			if id := res.Header().Get(echo.HeaderXRequestID); id != "" {
				attrs = append(attrs, slog.String("request_id", id))
			}
			level := slog.LevelInfo
			if strings.HasSuffix(route, "healthz") || strings.HasSuffix(route, "readyz") || strings.HasSuffix(route, "metrics") {
				level = slog.LevelDebug // probes and scrapes every few seconds would drown the rest
			}
			log.LogAttrs(req.Context(), level, "request", attrs...)
			return nil
		}
	}
}

// countedSignIns counts finished sign-ins by outcome; everything else goes straight through.
type countedSignIns struct {
	handlers.SignIn
	m *metrics.Metrics
}

func (s countedSignIns) FinishSignIn(w http.ResponseWriter, r *http.Request) (string, error) {
	to, err := s.SignIn.FinishSignIn(w, r)
	var pe *auth.ProviderError
	switch {
	case err == nil:
		s.m.SignIn(metrics.SignInSucceeded)
	case errors.As(err, &pe):
		s.m.SignIn(metrics.SignInRefused)
	case errors.Is(err, auth.ErrSignInState):
		s.m.SignIn(metrics.SignInExpired)
	default:
		s.m.SignIn(metrics.SignInFailed)
	}
	return to, err
}
