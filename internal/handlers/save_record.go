package handlers

import (
	"errors"
	"log/slog"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/pcclient"
)

// SaveObserver is told the outcome of every save attempt, the same word as in the audit record
// ("saved", "unchanged", "invalid", "conflict", "refused", ...): cmd/web counts them for
// /metrics. It must be quick and safe for concurrent use.
type SaveObserver func(outcome string)

// recordSave writes down what a save attempt came to: exactly one audit record (who, when, typed,
// before and after, the outcome, the app's and Partner Center's status and code, and the ids
// Microsoft support asks for; never tokens, cookies or secrets; Partner Center's own audit
// records do not cover this resource), and the metric.
func (h *Handlers) recordSave(c echo.Context, res saveResult) {
	if h.observeSave != nil {
		h.observeSave(string(res.outcome))
	}
	u := res.user
	attrs := []slog.Attr{
		slog.String("audit", "support_profile_save"),
		slog.Group("who", "name", u.Name, "upn", u.Username, "object_id", u.ObjectID, "tenant_id", u.TenantID),
		slog.Time("when", res.at.UTC()),
		slog.String("outcome", string(res.outcome)),
		slog.Int("status", res.status()),
		slog.Group("typed", contactAttrs(res.form.typed)...),
	}
	if res.current != nil && res.outcome != outcomeDuplicate {
		attrs = append(attrs, slog.Group("before", contactAttrs(*res.current)...))
	}
	if res.stored != nil && res.outcome != outcomeDuplicate {
		attrs = append(attrs, slog.Group("after", contactAttrs(*res.stored)...))
	}
	var pe *pcclient.Error
	if errors.As(res.err, &pe) {
		if pe.Status != 0 {
			attrs = append(attrs, slog.Int("upstream_status", pe.Status))
		}
		if pe.Code != "" {
			attrs = append(attrs, slog.String("partner_center_code", pe.Code))
		}
	}
	if res.correlationID != "" {
		attrs = append(attrs, slog.String("correlation_id", res.correlationID))
	}
	if res.requestID != "" {
		attrs = append(attrs, slog.String("ms_request_id", res.requestID))
	}
	h.auditLog(c).LogAttrs(c.Request().Context(), slog.LevelInfo, "support profile save", attrs...)
	if res.err != nil && res.outcome != outcomeSignInRequired {
		h.logger(c).Warn("save support profile failed", "step", res.step, "user", u.Username, "correlation_id", res.correlationID, "err", res.err)
	}
}

func contactAttrs(c contacts) []any {
	return []any{"email", c.Email, "telephone", c.Telephone, "website", c.Website}
}
