package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/i18n"
	"pcsupport/internal/support"
	"pcsupport/internal/views"
)

// fieldSpec describes one input once: its input attributes and length limit. Its words are the
// catalogue messages field.<name>.label, .short and .hint.
type fieldSpec struct {
	field                        support.Field
	typ, autocomplete, inputMode string
	max                          int
}

var fieldSpecs = []fieldSpec{
	{support.Email, "email", "email", "", 254},
	{support.Telephone, "tel", "tel", "", 32},
	{support.Website, "url", "url", "", 256},
}

// name is the field's name in forms and in the catalogue's message ids.
func (s fieldSpec) name() string { return string(s.field) }

func (s fieldSpec) label(l *i18n.Localizer) string { return l.T("field." + s.name() + ".label") }
func (s fieldSpec) short(l *i18n.Localizer) string { return l.T("field." + s.name() + ".short") }

// profileForm is a submitted form: what was typed and what the page had loaded.
type profileForm struct {
	typed  support.Contact
	loaded support.Contact
	// loadedOK is false when the form carried no readable record of what it loaded (a
	// hand-made request); then nothing can be "unchanged".
	loadedOK bool
	// submission identifies the rendering of the form that was sent (see submissions).
	submission string
	// restoredFrom is the history entry whose values the form was opened with ("Put these values
	// back"), 0 when none: the save's history entry names it.
	restoredFrom int64
	// keepTelephone: the person pressed the button that keeps the telephone as they typed it,
	// instead of the international form offered (telephoneCheck).
	keepTelephone bool
}

// readProfileForm reads the submitted form. The body limit is applied before (64 KB); a body
// that is not form-encoded reads as an empty form, which then fails validation.
func readProfileForm(c echo.Context) profileForm {
	_ = c.Request().ParseForm()
	return parseProfileForm(c.Request().PostForm)
}

func parseProfileForm(v url.Values) profileForm {
	f := profileForm{typed: support.Contact{
		Email:     strings.TrimSpace(v.Get("email")),
		Telephone: strings.TrimSpace(v.Get("telephone")),
		Website:   strings.TrimSpace(v.Get("website")),
	}}
	if kept := strings.TrimSpace(v.Get(keepTelephoneField)); kept != "" {
		f.typed.Telephone, f.keepTelephone = kept, true
	}
	f.loaded, f.loadedOK = decodeLoaded(v.Get("loaded"))
	if id, err := strconv.ParseInt(v.Get(restoredFromField), 10, 64); err == nil && id > 0 {
		f.restoredFrom = id
	}
	f.submission = v.Get("submission")
	if !validSubmissionID(f.submission) {
		f.submission = newSubmissionID()
	}
	return f
}

// encodeLoaded records in the form what the page showed, so that a save can tell what the person
// changed without asking Partner Center. It is not a secret: the values are on the page anyway.
func encodeLoaded(c support.Contact) string {
	b, _ := json.Marshal([3]string{c.Email, c.Telephone, c.Website})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeLoaded(s string) (support.Contact, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 4096 {
		return support.Contact{}, false
	}
	var a [3]string
	if json.Unmarshal(b, &a) != nil {
		return support.Contact{}, false
	}
	return support.Contact{Email: a[0], Telephone: a[1], Website: a[2]}, true
}

// keepTelephoneField is the name of the button that saves the telephone as typed, its value.
const keepTelephoneField = "keep_telephone"

// problem is what is wrong with a value: a catalogue message and its arguments, put into words
// in the person's language when the form is shown. A value that is fine but better written
// otherwise is a problem too, until the person chooses: suggest is the better form, shown in the
// field, and keep the value as typed, which the person may keep instead.
type problem struct {
	id            string
	args          []any
	suggest, keep string
}

func (p problem) in(l *i18n.Localizer, s fieldSpec) string {
	return l.T(p.id, append([]any{"Field", s.label(l)}, p.args...)...)
}

// fieldErrors maps a field name to what is wrong with it.
type fieldErrors map[string]problem

// validate checks every field, the telephone as a telephone number (tel).
func validate(c support.Contact, tel telephoneCheck) fieldErrors {
	errs := fieldErrors{}
	for _, s := range fieldSpecs {
		p, bad := validateField(s, c.Get(s.field))
		if !bad && s.field == support.Telephone {
			p, bad = tel.check(c.Telephone)
		}
		if bad {
			errs[s.name()] = p
		}
	}
	// An offer waits until nothing else is wrong: the field keeps what was typed, and the next
	// press of Save, with the errors fixed, makes the offer.
	for name, p := range errs {
		if p.suggest != "" && len(errs) > 1 {
			delete(errs, name)
		}
	}
	return errs
}

// withinLimits reports that every value is text within its field's length limit: only such
// values are worth keeping for later.
func withinLimits(c support.Contact) bool {
	for _, s := range fieldSpecs {
		v := c.Get(s.field)
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > s.max {
			return false
		}
	}
	return true
}

func validateField(s fieldSpec, v string) (problem, bool) {
	switch {
	case v == "":
		return problem{id: "valid.required"}, true
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		return problem{id: "valid.notText"}, true
	case utf8.RuneCountInString(v) > s.max:
		return problem{id: "valid.tooLong", args: []any{"Max", s.max}}, true
	}
	// The telephone is checked against the partner's country: telephoneCheck.
	valid := map[string]func(string) bool{"email": validEmail, "website": validWebsite}[s.name()]
	if valid != nil && !valid(v) {
		return problem{id: "valid." + s.name()}, true
	}
	return problem{}, false
}

func validEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || strings.Count(v, "@") != 1 {
		return false
	}
	local, domain, _ := strings.Cut(v, "@")
	return local != "" && !strings.ContainsAny(local, " \"") && validHostName(domain)
}

func validWebsite(v string) bool {
	if strings.ContainsAny(v, " <>\"'`\\") {
		return false
	}
	raw := v
	if scheme, _, found := strings.Cut(v, "://"); found {
		if s := strings.ToLower(scheme); s != "http" && s != "https" {
			return false
		}
	} else {
		if strings.Contains(v, ":") && !strings.Contains(strings.SplitN(v, "/", 2)[0], ":") {
			return false
		}
		raw = "https://" + v
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" {
		return false
	}
	return validHostName(u.Hostname())
}

// validHostName accepts DNS names with at least one dot, such as www.example.com.
func validHostName(h string) bool {
	if len(h) > 253 || !strings.Contains(h, ".") || strings.HasSuffix(h, ".") {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return false
			}
		}
	}
	return true
}

// fields builds the form's inputs from values, marking errors and changes against loaded.
func fields(l *i18n.Localizer, values, loaded support.Contact, errs fieldErrors) []views.Field {
	out := make([]views.Field, 0, len(fieldSpecs))
	for _, s := range fieldSpecs {
		f := views.Field{
			Name: s.name(), Label: s.label(l), Type: s.typ, Autocomplete: s.autocomplete, InputMode: s.inputMode,
			Hint: l.T("field." + s.name() + ".hint"), MaxLength: s.max, Value: values.Get(s.field),
			Changed: values.Get(s.field) != loaded.Get(s.field),
		}
		if p, bad := errs[s.name()]; bad && p.suggest != "" {
			// The better form goes in the field, so that Save stores it; the message says so.
			f.Suggestion, f.Value, f.Changed = p.in(l, s), p.suggest, p.suggest != loaded.Get(s.field)
		} else if bad {
			f.Error = p.in(l, s)
		}
		out = append(out, f)
	}
	return out
}

// changes lists the fields that differ between before and after, for the success message.
func changes(l *i18n.Localizer, before, after support.Contact) []views.Change {
	var out []views.Change
	for _, s := range fieldSpecs {
		if b, a := before.Get(s.field), after.Get(s.field); b != a {
			out = append(out, views.Change{Label: s.short(l), Before: b, After: a})
		}
	}
	return out
}
