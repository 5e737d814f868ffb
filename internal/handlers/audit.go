package handlers

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// audit collects the facts of one save attempt and writes them as exactly one structured record:
// who, when, the values before and after, the outcome, the upstream status and code, and the
// ids Microsoft support asks for. Partner Center's own audit records do not cover this resource.
// Tokens, cookies and secrets are never part of it.
type audit struct {
	h             *Handlers
	c             echo.Context
	form          profileForm
	before        *contacts
	correlationID string
	requestID     string
	written       bool
}

func (h *Handlers) newAudit(c echo.Context, f profileForm) *audit {
	return &audit{h: h, c: c, form: f}
}

// record writes the record with the app's answer; after is what Partner Center stored, if anything.
func (a *audit) record(outcome string, appStatus int, after *contacts) {
	a.write(outcome, appStatus, 0, "", after)
}

// recordUpstream writes the record of a failed Partner Center call.
func (a *audit) recordUpstream(outcome string, appStatus, upstreamStatus int, code string) {
	a.write(outcome, appStatus, upstreamStatus, code, nil)
}

func (a *audit) write(outcome string, appStatus, upstreamStatus int, code string, after *contacts) {
	if a.written {
		return
	}
	a.written = true
	a.h.noteSaveOutcome(outcome)
	u := currentUser(a.c)
	attrs := []slog.Attr{
		slog.String("audit", "support_profile_save"),
		slog.Group("who", "name", u.Name, "upn", u.Username, "object_id", u.ObjectID, "tenant_id", u.TenantID),
		slog.Time("when", time.Now().UTC()),
		slog.String("outcome", outcome),
		slog.Int("status", appStatus),
		slog.Group("typed", contactAttrs(a.form.typed)...),
	}
	if a.before != nil {
		attrs = append(attrs, slog.Group("before", contactAttrs(*a.before)...))
	}
	if after != nil {
		attrs = append(attrs, slog.Group("after", contactAttrs(*after)...))
	}
	if upstreamStatus != 0 {
		attrs = append(attrs, slog.Int("upstream_status", upstreamStatus))
	}
	if code != "" {
		attrs = append(attrs, slog.String("partner_center_code", code))
	}
	if a.correlationID != "" {
		attrs = append(attrs, slog.String("correlation_id", a.correlationID))
	}
	if a.requestID != "" {
		attrs = append(attrs, slog.String("ms_request_id", a.requestID))
	}
	a.h.auditLog(a.c).LogAttrs(a.c.Request().Context(), slog.LevelInfo, "support profile save", attrs...)
}

func contactAttrs(c contacts) []any {
	return []any{"email", c.Email, "telephone", c.Telephone, "website", c.Website}
}
