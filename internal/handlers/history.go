package handlers

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/notify"
	"pcsupport/internal/support"
)

// History is what the handlers need of the change history (internal/history's Store has it).
type History interface {
	Observe(ctx context.Context, tenantID string, current support.Contact, at time.Time) error
	RecordSave(ctx context.Context, s history.Save) error
	List(ctx context.Context, tenantID string, f history.Filter, c history.Cursor, limit int) (history.Page, error)
	Count(ctx context.Context, tenantID string, f history.Filter) (int, error)
	Get(ctx context.Context, tenantID string, id int64) (history.Entry, bool, error)
	People(ctx context.Context, tenantID string) ([]history.Person, error)
	LastChange(ctx context.Context, tenantID string) (history.Entry, bool, error)
	Export(ctx context.Context, tenantID string, f history.Filter, fn func(history.Entry) error) error
	DeliveryStates(ctx context.Context, tenantID string, entryIDs []int64) (map[int64][]notify.DeliveryState, error)
}

// HistoryWriteObserver is told of every history write that failed: write is "save" (a save
// made here) or "observe" (values read from Partner Center). cmd/web counts them for /metrics.
type HistoryWriteObserver func(write string)

// What a history write records, as HistoryWriteObserver is told.
const (
	historyWriteSave    = "save"
	historyWriteObserve = "observe"
)

// historyTimeout bounds each history call: a database that hangs must not hold up the page or
// the save, which are the job; the history is the record.
const historyTimeout = 5 * time.Second

// historyTenant is the key of the signed-in person's history: their partner tenant, always from
// the session, never from the request. Entra ID writes tenant ids in lowercase; other spellings
// of the same id must meet the same history. "" when the sign-in names no tenant.
func historyTenant(u auth.User) string {
	return strings.ToLower(strings.TrimSpace(u.TenantID))
}

// historyContext is for a history write: it outlives the request (a person who closes the tab
// after the save must not lose its record) but not historyTimeout, nor the first half of the
// reserve that the request deadline keeps for answering (withinDeadline).
func historyContext(ctx context.Context) (context.Context, context.CancelFunc) {
	limit := time.Now().Add(historyTimeout)
	if d, ok := ctx.Deadline(); ok && d.Add(answerReserve/2).Before(limit) {
		limit = d.Add(answerReserve / 2)
	}
	return context.WithDeadline(context.WithoutCancel(ctx), limit)
}

// observeRead records what a Partner Center GET found: the first state of a tenant, or a change
// made outside the app. It reports whether the write went through (false also when no history is
// kept for this person).
func (h *Handlers) observeRead(ctx context.Context, log *slog.Logger, u auth.User, current support.Contact, at time.Time) bool {
	tenant := historyTenant(u)
	if h.history == nil || tenant == "" {
		return false
	}
	ctx, cancel := historyContext(ctx)
	defer cancel()
	if err := h.history.Observe(ctx, tenant, current, at); err != nil {
		h.historyWriteFailed(log, tenant, historyWriteObserve, err)
		return false
	}
	return true
}

func (h *Handlers) historyWriteFailed(log *slog.Logger, tenant, write string, err error) {
	log.Error("change history not written", "write", write, "tenant_id", tenant, "err", err)
	if h.observeHistoryFailure != nil {
		h.observeHistoryFailure(write)
	}
}
