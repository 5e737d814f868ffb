package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/history"
	"pcsupport/internal/i18n"
	"pcsupport/internal/views"
)

// historyLine is the line under the form, "Last changed 3 days ago by Ada Admin" (or the change
// noticed from outside), with the link to the history; nil when no history is kept for the person.
func (h *Handlers) historyLine(c echo.Context) *views.HistoryLine {
	tenant := historyTenant(currentUser(c))
	if h.history == nil || tenant == "" {
		return nil
	}
	l := h.loc(c)
	line := &views.HistoryLine{URL: h.basePath + "history", Link: l.T("history.link")}
	ctx, cancel := context.WithTimeout(c.Request().Context(), historyTimeout)
	defer cancel()
	e, found, err := h.history.LastChange(ctx, tenant)
	switch {
	case err != nil:
		h.logger(c).Warn("change history not readable", "err", err)
		line.Note = l.T("history.last.unavailable")
	case !found:
		line.Note = l.T("history.last.none")
	case e.Kind == history.KindSaved:
		line.Prefix, line.Suffix = around(l.T("history.last.saved", "When", timeMark, "Name", personName(e.By)))
		line.Time = &views.Time{Datetime: machineTime(e.At), Text: ago(l, e.At, time.Now()), Full: fullTime(l, e.At)}
	default:
		line.Prefix, line.Suffix = around(l.T("history.last.outside", "When", timeMark))
		line.Time = &views.Time{Datetime: machineTime(e.At), Text: fullTime(l, e.At)}
	}
	return line
}

// timeMark stands for the time in a sentence, so that the view can put a <time> element where
// each language puts the words.
const timeMark = "\x00"

func around(sentence string) (before, after string) {
	before, after, _ = strings.Cut(sentence, timeMark)
	return before, after
}

// personName is how a person who saved is named: their name, else their user name.
func personName(p history.Person) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Username
}

// machineTime is a history time as the datetime attribute and the exports give it: RFC 3339 in
// UTC, to the millisecond the store keeps.
func machineTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// fullTime is a time in words, in UTC with the zone named (the people of one partner may work
// in several countries): "28 Nov 2026, 10:42 UTC", "28 nov. 2026, 10:42 UTC".
func fullTime(l *i18n.Localizer, t time.Time) string {
	t = t.UTC()
	month := t.Month().String()
	if names := strings.Fields(l.T("time.months")); len(names) == 12 {
		month = names[t.Month()-1]
	}
	return l.T("time.full", "Day", t.Day(), "Month", month, "Year", t.Year(), "Time", t.Format("15:04"))
}

// secondsTime is a time in words to the second, in the person's time zone, named: "28 Nov 2026,
// 11:42:05 CET"; in UTC when their zone is not known, "28 Nov 2026, 10:42:05 UTC".
func secondsTime(l *i18n.Localizer, t time.Time, tz *time.Location) string {
	t = t.In(tz)
	month := t.Month().String()
	if names := strings.Fields(l.T("time.months")); len(names) == 12 {
		month = names[t.Month()-1]
	}
	name := "UTC"
	if tz != time.UTC {
		if name = t.Format("MST"); strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-") {
			name = "UTC" + name // a zone without an abbreviation: its offset
		}
	}
	return l.T("time.seconds", "Day", t.Day(), "Month", month, "Year", t.Year(), "Time", t.Format("15:04:05"), "Zone", name)
}

// ago is how long before now t was, roughly, in words: "just now", "3 days ago", "il y a 2 mois".
func ago(l *i18n.Localizer, t, now time.Time) string {
	const day = 24 * time.Hour
	d := now.Sub(t)
	var id string
	var n int
	switch {
	case d < time.Minute:
		return l.T("time.justNow")
	case d < time.Hour:
		id, n = "time.minutesAgo", int(d/time.Minute)
	case d < day:
		id, n = "time.hoursAgo", int(d/time.Hour)
	case d < 30*day:
		id, n = "time.daysAgo", int(d/day)
	case d < 365*day:
		id, n = "time.monthsAgo", int(d/(30*day))
	default:
		id, n = "time.yearsAgo", int(d/(365*day))
	}
	return l.T(id, "Count", n)
}
