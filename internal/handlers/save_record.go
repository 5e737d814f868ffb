package handlers

import (
	"errors"
	"log/slog"

	"pcsupport/internal/history"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

// SaveObserver is told the outcome of every save attempt, the same word as in the audit record
// ("saved", "unchanged", "invalid", "conflict", "refused", ...): cmd/web counts them for
// /metrics. It must be quick and safe for concurrent use.
type SaveObserver func(outcome string)

// recordSave writes down what a save attempt came to: the change history entry (see
// recordHistory), exactly one audit record (who, when, typed, before and after, the outcome, the
// app's and Partner Center's status and code, and the ids Microsoft support asks for; never
// tokens, cookies or secrets; Partner Center's own audit records do not cover this resource),
// and the metric. It returns the result with historyNotRecorded set when a confirmed save is
// missing from the history.
func (h *Handlers) recordSave(in saveRequest, res saveResult) saveResult {
	if h.observeSave != nil {
		h.observeSave(string(res.outcome))
	}
	if res.step == stepSession {
		return res // nobody signed in: nothing of what was sent is kept, not even in the log
	}
	res = h.recordHistory(in, res)
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
	in.audit.LogAttrs(in.ctx, slog.LevelInfo, "support profile save", attrs...)
	if res.err != nil && res.outcome != outcomeSignInRequired {
		in.log.Warn("save support profile failed", "step", res.step, "user", u.Username, "correlation_id", res.correlationID, "err", res.err)
	}
	return res
}

// recordHistory writes into the change history what the attempt learnt: a save Partner Center
// confirmed (with the outside change its check read, if any, before it), or else the values the
// check read (a colleague's change elsewhere, noticed here). Refused attempts change nothing
// upstream, so they are not history (the audit record keeps them); a repeated submission was
// recorded by the first.
func (h *Handlers) recordHistory(in saveRequest, res saveResult) saveResult {
	switch {
	case res.outcome == outcomeSaved:
		res.historyNotRecorded = h.recordSaved(in, res) != nil
	case res.confirms != nil:
		// The values upstream are the ones a lost PUT of this form sent: its save, not a change
		// made outside the app.
		lp := res.confirms
		lost := res
		lost.current, lost.stored, lost.correlationID, lost.requestID, lost.started = &lp.before, &lp.after, lp.correlationID, lp.requestID, lp.started
		res.historyNotRecorded = h.recordSaved(in, lost) != nil
	case res.current != nil && res.outcome != outcomeDuplicate:
		h.observeRead(in.ctx, in.log, res.user, *res.current, res.started)
	}
	return res
}

// recordSaved writes a confirmed save; nil also when no history is kept for this person.
func (h *Handlers) recordSaved(in saveRequest, res saveResult) error {
	u := res.user
	tenant := historyTenant(u)
	if h.history == nil || tenant == "" {
		return nil
	}
	ctx, cancel := historyContext(in.ctx)
	defer cancel()
	err := h.history.RecordSave(ctx, history.Save{TenantID: tenant,
		By:     history.Person{ObjectID: u.ObjectID, Name: u.Name, Username: u.Username},
		Before: *res.current, After: *res.stored,
		CorrelationID: res.correlationID, RequestID: res.requestID, Started: res.started, At: res.at,
		RestoredFrom: in.form.restoredFrom})
	if err != nil {
		h.historyWriteFailed(in.log, tenant, historyWriteSave, err)
	}
	return err
}

func contactAttrs(c support.Contact) []any {
	return []any{"email", c.Email, "telephone", c.Telephone, "website", c.Website}
}
