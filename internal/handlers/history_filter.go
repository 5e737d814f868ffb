package handlers

import (
	"net/url"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"pcsupport/internal/history"
	"pcsupport/internal/i18n"
	"pcsupport/internal/support"
	"pcsupport/internal/views"
)

// The history filter's query parameters: the history page's GET form sends them, and its page
// links and download links carry them on.
const (
	filterField = "field" // email, telephone, website
	filterMade  = "made"  // here, outside
	filterBy    = "by"    // a person's history.Person.Key
	filterFrom  = "from"  // a day, 2026-12-05, in the person's time zone
	filterUntil = "until" // a day, included
)

// What filterMade takes.
const (
	madeHere    = "here"
	madeOutside = "outside"
)

// filterDay is how a day is written in the filter (what <input type="date"> sends).
const filterDay = "2006-01-02"

// historyFilter is the history's filter as typed, what it asks of the store, and what is wrong
// with it (by parameter).
type historyFilter struct {
	field, made, by, from, until string
	filter                       history.Filter
	errs                         map[string]filterProblem
}

// filterProblem is what is wrong with one of the filter's parameters.
type filterProblem int

const (
	badField filterProblem = iota + 1
	badMade
	badDate
	untilBeforeFrom
)

// words says what is wrong, and what to do, in the person's language.
func (p filterProblem) words(l *i18n.Localizer) string {
	switch p {
	case badField:
		return l.T("history.filter.badField")
	case badMade:
		return l.T("history.filter.badMade")
	case badDate:
		return l.T("history.filter.badDate")
	default:
		return l.T("history.filter.untilBeforeFrom")
	}
}

// parseHistoryFilter reads the filter from a query. Days are read in zone, the person's: from
// its start, until its end. What cannot be used is said in errs, and kept as typed.
func parseHistoryFilter(q url.Values, zone *time.Location) historyFilter {
	get := func(name string) string {
		v := strings.TrimSpace(q.Get(name))
		if len(v) > 320 {
			v = v[:320]
		}
		return strings.ToValidUTF8(v, "")
	}
	f := historyFilter{field: get(filterField), made: get(filterMade), by: get(filterBy), from: get(filterFrom), until: get(filterUntil),
		errs: map[string]filterProblem{}}
	switch f.field {
	case "":
	case string(support.Email), string(support.Telephone), string(support.Website):
		f.filter.Field = support.Field(f.field)
	default:
		f.errs[filterField] = badField
	}
	switch f.made {
	case "":
	case madeHere:
		f.filter.Kind = history.KindSaved
	case madeOutside:
		f.filter.Kind = history.KindOutside
	default:
		f.errs[filterMade] = badMade
	}
	f.filter.SavedBy = f.by
	day := func(name, v string) (time.Time, bool) {
		if v == "" {
			return time.Time{}, true
		}
		d, err := time.ParseInLocation(filterDay, v, zone)
		if err != nil || d.Year() < 2000 || d.Year() > 9000 {
			f.errs[name] = badDate
			return time.Time{}, false
		}
		return d, true
	}
	from, fromOK := day(filterFrom, f.from)
	until, untilOK := day(filterUntil, f.until)
	if fromOK && untilOK && !from.IsZero() && !until.IsZero() && from.After(until) {
		f.errs[filterUntil] = untilBeforeFrom
		return f
	}
	f.filter.From = from
	if !until.IsZero() {
		f.filter.Until = until.AddDate(0, 0, 1) // the whole day
	}
	return f
}

// ok reports a filter the store can be asked.
func (f historyFilter) ok() bool { return len(f.errs) == 0 }

// set reports a filter that narrows the history.
func (f historyFilter) set() bool {
	return f.field != "" || f.made != "" || f.by != "" || f.from != "" || f.until != ""
}

// query is the filter as the links carry it on, with more (a cursor) after it; "" for none.
func (f historyFilter) query(more string) string {
	v := url.Values{}
	for _, p := range [][2]string{{filterField, f.field}, {filterMade, f.made}, {filterBy, f.by}, {filterFrom, f.from}, {filterUntil, f.until}} {
		if p[1] != "" {
			v.Set(p[0], p[1])
		}
	}
	q := v.Encode()
	switch {
	case q == "" && more == "":
		return ""
	case q == "":
		return "?" + more
	case more == "":
		return "?" + q
	}
	return "?" + q + "&" + more
}

// view is the filter's form: its choices, what was typed, and what is wrong.
func (f historyFilter) view(l *i18n.Localizer, action string, people []history.Person) views.HistoryFilter {
	v := views.HistoryFilter{Action: action, Field: f.field, Made: f.made, By: f.by, From: f.from, Until: f.until,
		Errors: map[string]string{}}
	v.Fields = []views.Option{{Value: "", Label: l.T("history.filter.anyField")}}
	for _, s := range fieldSpecs {
		v.Fields = append(v.Fields, views.Option{Value: s.name(), Label: s.short(l)})
	}
	v.Mades = []views.Option{{Value: "", Label: l.T("history.filter.anywhere")},
		{Value: madeHere, Label: l.T("history.filter.here")}, {Value: madeOutside, Label: l.T("history.filter.outside")}}
	v.People = []views.Option{{Value: "", Label: l.T("history.filter.anyone")}}
	known := false
	for _, p := range people {
		label := personName(p)
		if p.Username != "" && p.Username != label {
			label += " (" + p.Username + ")"
		}
		v.People = append(v.People, views.Option{Value: p.Key(), Label: label})
		known = known || p.Key() == f.by
	}
	if f.by != "" && !known {
		v.People = append(v.People, views.Option{Value: f.by, Label: f.by}) // kept as it came
	}
	for name, p := range f.errs {
		v.Errors[name] = p.words(l)
	}
	if f.set() {
		v.ClearURL = action
	}
	return v
}

// asciiLetters are the Latin letters that NFKD does not split into an ASCII letter and accents.
var asciiLetters = map[rune]string{'æ': "ae", 'ø': "o", 'œ': "oe", 'ß': "ss", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i"}

// slug is a name as a file name's part: ASCII letters and digits, lowercase, words joined by
// hyphens, accents dropped ("Société Générale" is "societe-generale"); "" when nothing is left.
func slug(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFKD.String(name) {
		if s, ok := asciiLetters[unicode.ToLower(r)]; ok {
			r = rune(s[0])
			if len(s) > 1 {
				if hyphen && b.Len() > 0 {
					b.WriteByte('-')
				}
				hyphen = false
				b.WriteString(s[:len(s)-1])
				r = rune(s[len(s)-1])
			}
		}
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(unicode.ToLower(r))
		case unicode.Is(unicode.Mn, r): // an accent NFKD split off its letter
		default:
			hyphen = true
		}
		if b.Len() >= 50 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}
