package handlers

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"
)

// defaultRequestDeadline is Options.RequestDeadline's default: under the read timeouts of the
// proxies the app runs behind (Azure Application Gateway 20 s is the exception: set less there).
const defaultRequestDeadline = 25 * time.Second

// answerReserve is kept from a request's deadline for what follows the work: recording it (the
// change history may take up to half of it) and writing the answer.
const answerReserve = 2 * time.Second

const workKey = "work"

// withinDeadline gives the request's work (Partner Center's calls and their retries, the wait for
// other saves of the partner) the request deadline less answerReserve, so that the person gets
// the app's own words, "may have been saved" with the ids included, before a proxy gives up.
// The answer itself is written with the request's own context, which the deadline does not end.
func (h *Handlers) withinDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), h.deadline-answerReserve)
		defer cancel()
		c.Set(workKey, ctx)
		return next(c)
	}
}

// workContext is the context of the request's work: bounded by withinDeadline where it applies.
func workContext(c echo.Context) context.Context {
	if ctx, ok := c.Get(workKey).(context.Context); ok {
		return ctx
	}
	return c.Request().Context()
}
