package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/history"
	"pcsupport/internal/i18n"
	"pcsupport/internal/notify"
	"pcsupport/internal/views"
)

// showHistory shows one page of the change history of the signed-in person's partner tenant,
// newest first, narrowed by the filter of the query (field, made, by, from, until). The tenant
// comes from the session only: a cursor in the URL (?before=, ?after=) moves within that
// tenant's entries and can reach no other's.
func (h *Handlers) showHistory(c echo.Context) error {
	if currentUser(c).MFAMissing() {
		return h.mfaPage(c) // Partner Center would not show these values to them either
	}
	l := h.loc(c)
	vm := views.HistoryPage{Page: h.page(c, l.T("history.title")), FormURL: h.basePath}
	tenant := historyTenant(currentUser(c))
	if tenant == "" {
		vm.Empty = l.T("history.noTenant")
		return render(c, http.StatusOK, views.HistoryPageView(vm))
	}
	tz := zone(c)
	vm.Zone = zoneSentence(l, tz)
	ctx, cancel := context.WithTimeout(c.Request().Context(), historyTimeout)
	defer cancel()
	f := parseHistoryFilter(c.QueryParams(), tz)
	people, err := h.history.People(ctx, tenant)
	if err != nil {
		h.logger(c).Warn("people of the change history not readable", "tenant_id", tenant, "err", err)
	}
	fv := f.view(l, h.basePath+"history", people)
	vm.Filter = &fv
	if !f.ok() {
		// Nothing is asked of the store: the form says what to put right, with what was typed.
		return render(c, http.StatusBadRequest, views.HistoryPageView(vm))
	}
	page, err := h.history.List(ctx, tenant, f.filter, history.ParseCursor(c.QueryParams()), history.DefaultPageSize)
	if err != nil {
		h.logger(c).Error("change history not readable", "tenant_id", tenant, "err", err)
		n := noticeOf(views.NoticeError, l, "history.unavailable.title", "history.unavailable.line")
		vm.Notice, vm.Title, vm.Filter = &n, n.Title, nil
		return render(c, http.StatusServiceUnavailable, views.HistoryPageView(vm))
	}
	if len(page.Entries) > 0 {
		vm.CSVURL, vm.JSONURL = h.basePath+"history.csv"+f.query(""), h.basePath+"history.json"+f.query("")
		if n, err := h.history.Count(ctx, tenant, f.filter); err != nil {
			h.logger(c).Warn("change history not counted", "tenant_id", tenant, "err", err)
		} else {
			vm.Count = l.T("history.count", "Count", n)
		}
	}
	canRestore := !h.readOnlyForRole(c) // whose page shows the values read-only cannot save them
	notified := h.notificationStates(ctx, c, tenant, page.Entries)
	for _, e := range page.Entries {
		v := historyEntryView(l, e, tz)
		if words := notificationWords(l, notify.Summarize(notified[e.ID])); words != "" {
			v.Notified = l.T("history.notifications", "State", words)
		}
		if e.RestoredFrom != 0 {
			v.Restored = h.restoredWords(ctx, l, tenant, e.RestoredFrom, tz)
		}
		if canRestore {
			v.RestoreURL = h.basePath + "?" + restoreParam + "=" + strconv.FormatInt(e.ID, 10)
		}
		vm.Entries = append(vm.Entries, v)
	}
	if page.Newer != nil {
		vm.NewerURL = h.basePath + "history" + f.query(page.Newer.Encode())
	}
	if page.Older != nil {
		vm.OlderURL = h.basePath + "history" + f.query(page.Older.Encode())
	}
	switch {
	case len(page.Entries) == 0 && f.set():
		vm.Empty, vm.ClearURL = l.T("history.filter.none"), h.basePath+"history"
	case len(page.Entries) == 0 && page.Newer == nil && page.Older == nil:
		vm.Empty = l.T("history.empty")
	case len(page.Entries) == 1 && page.Entries[0].Kind == history.KindBaseline && page.Newer == nil && !f.set():
		vm.Empty = l.T("history.noChange")
	}
	return render(c, http.StatusOK, views.HistoryPageView(vm))
}

// restoredWords says which entry's values a save put back: "Put back the values of <time>".
func (h *Handlers) restoredWords(ctx context.Context, l *i18n.Localizer, tenant string, id int64, tz *time.Location) string {
	from, ok, err := h.history.Get(ctx, tenant, id)
	if err != nil || !ok {
		return l.T("history.restoredGone") // gone with retention, or unreadable now
	}
	return l.T("history.restored", "When", secondsTime(l, from.At, tz))
}

// zoneSentence says which time zone the history's times are in.
func zoneSentence(l *i18n.Localizer, tz *time.Location) string {
	if tz == time.UTC {
		return l.T("history.zoneUTC")
	}
	return l.T("history.zone", "Zone", tz.String())
}

// historyEntryView puts one entry into words: when, who (or outside this app, or the first
// record), and field by field what it was and what it became.
func historyEntryView(l *i18n.Localizer, e history.Entry, tz *time.Location) views.HistoryEntry {
	v := views.HistoryEntry{Time: views.Time{Datetime: machineTime(e.At), Text: secondsTime(l, e.At, tz)}}
	before, after := e.Before, e.After
	switch e.Kind {
	case history.KindBaseline:
		v.Summary = l.T("history.entry.baseline")
		for _, s := range fieldSpecs {
			v.Values = append(v.Values, views.Detail{Label: s.short(l), Value: orEmpty(l, after.Get(s.field))})
		}
		return v
	case history.KindSaved:
		v.Summary, v.Who = l.T("history.entry.saved"), personName(e.By)
		if e.By.Username != v.Who {
			v.Username = e.By.Username
		}
	default:
		v.Summary = l.T("history.entry.outside")
	}
	for _, ch := range changes(l, before, after) {
		v.Changes = append(v.Changes, views.Change{Label: ch.Label, Before: orEmpty(l, ch.Before), After: orEmpty(l, ch.After)})
	}
	if e.CorrelationID != "" {
		v.Details = append(v.Details, views.Detail{Label: l.T("detail.correlation"), Value: e.CorrelationID})
	}
	if e.RequestID != "" {
		v.Details = append(v.Details, views.Detail{Label: l.T("detail.request"), Value: e.RequestID})
	}
	return v
}

// notificationStates are how the notifications of the entries shown stand; none when they cannot
// be read, which leaves the page without that line rather than without the history.
func (h *Handlers) notificationStates(ctx context.Context, c echo.Context, tenant string, entries []history.Entry) map[int64][]notify.DeliveryState {
	ids := make([]int64, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	states, err := h.history.DeliveryStates(ctx, tenant, ids)
	if err != nil {
		h.logger(c).Warn("notification states not readable", "tenant_id", tenant, "err", err)
	}
	return states
}

// notificationWords says how an entry's notification stands, or "" when it tells nobody.
func notificationWords(l *i18n.Localizer, s notify.Summary) string {
	if s == notify.SummaryNone {
		return ""
	}
	switch s {
	case notify.SummarySending:
		return l.T("history.notified.sending")
	case notify.SummaryDelivered:
		return l.T("history.notified.delivered")
	case notify.SummaryRetrying:
		return l.T("history.notified.retrying")
	default:
		return l.T("history.notified.gave_up")
	}
}

// orEmpty shows an empty value as such, rather than as nothing.
func orEmpty(l *i18n.Localizer, v string) string {
	if v == "" {
		return l.T("history.emptyValue")
	}
	return v
}
