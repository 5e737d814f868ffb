// Package probes answers the people and programs that run the app: /healthz (alive), /readyz
// (able to serve people), and `web healthcheck`, the container's health check.
package probes

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Check is one thing the app needs, asked at every readiness probe. An informational check is
// shown but does not make the app unready: its failure is worth seeing, yet taking every
// replica out of service for it would stop what still works.
type Check struct {
	Name          string
	Check         func(context.Context) error
	Informational bool
}

// Readyz answers 200 when every check that counts passes and 503 otherwise, one line per check.
// The reasons go to the log, not to the answer: /readyz needs no session.
func Readyz(checks []Check, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		errs := make([]error, len(checks))
		var wg sync.WaitGroup
		for i, rc := range checks {
			wg.Go(func() { errs[i] = rc.Check(ctx) })
		}
		wg.Wait()
		status := http.StatusOK
		var b strings.Builder
		for i, rc := range checks {
			if errs[i] == nil {
				fmt.Fprintf(&b, "%s: ok\n", rc.Name)
				continue
			}
			log.Warn("not ready", "check", rc.Name, "err", errs[i])
			if rc.Informational {
				fmt.Fprintf(&b, "%s: failing (the app serves without it)\n", rc.Name)
				continue
			}
			status = http.StatusServiceUnavailable
			fmt.Fprintf(&b, "%s: not ready\n", rc.Name)
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.String(status, b.String())
	}
}

// Healthz answers that the process is alive.
func Healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, "ok")
}

// Healthcheck is `web healthcheck`: the container's HEALTHCHECK, in an image without a shell or
// curl. It asks the running app's /healthz at u over loopback and fails unless it answers 200.
func Healthcheck(ctx context.Context, u string, stdout io.Writer) error {
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
