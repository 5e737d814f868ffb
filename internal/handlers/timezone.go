package handlers

import (
	"strings"
	"time"
	_ "time/tzdata" // the image has no zone files: the person's zone must be known without them

	"github.com/labstack/echo/v4"

	"pcsupport/internal/i18n"
)

// timeZoneCookie is where static/app.js writes the browser's time zone (an IANA name), so that
// times of day can be shown in the person's own. Without it (no JavaScript) times are in UTC,
// labelled so.
const timeZoneCookie = "pcs_tz"

// zone is the person's time zone as their browser tells it, else UTC.
func zone(c echo.Context) *time.Location {
	ck, err := c.Cookie(timeZoneCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 64 || strings.ContainsAny(ck.Value, ". \\") {
		return time.UTC
	}
	loc, err := time.LoadLocation(ck.Value)
	if err != nil || loc.String() == "Local" {
		return time.UTC
	}
	return loc
}

// clockTime is a moment as a time of day in zone, "14:05", with the day when it is not today's
// there, and "UTC" said when the zone is UTC (the person's own was not known).
func clockTime(l *i18n.Localizer, t time.Time, zone *time.Location, now time.Time) string {
	local := t.In(zone)
	text := local.Format("15:04")
	if y, m, d := local.Date(); y != now.In(zone).Year() || m != now.In(zone).Month() || d != now.In(zone).Day() {
		text = dayMonth(l, local) + " " + text
	}
	if zone == time.UTC {
		return l.T("time.utc", "Time", text)
	}
	return text
}

// dayMonth is a date in words without the year: "6 Dec", "6 déc.".
func dayMonth(l *i18n.Localizer, t time.Time) string {
	month := t.Month().String()[:3]
	if names := strings.Fields(l.T("time.months")); len(names) == 12 {
		month = names[t.Month()-1]
	}
	return l.T("time.dayMonth", "Day", t.Day(), "Month", month)
}
