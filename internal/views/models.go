// Package views renders the app's pages and fragments with templ. Views take view models shaped
// like the screen, with every message already written; they know nothing of Echo or Partner Center.
package views

// Page is what every full page needs.
type Page struct {
	Title            string // the page's own part of the title; the app name is appended
	BasePath         string // every link starts with it
	CSS, JS          string // asset URLs (content-hashed): the stylesheet and htmx
	AppJS            string // the app's own small script
	Favicon          string
	CSRFToken        string
	User             *User  // nil when signed out
	DevTools         string // only with --dev: the emulator's control page
	DevNotifications string // only with --dev: the page of notifications the dev receiver got
	Languages        []LanguageLink
	// LanguageForm, when set, is the id of the page's form: the language switch then submits it,
	// so that what was typed comes back in the other language.
	LanguageForm string
	Portal       string // Partner Center's own page for these settings
}

// LanguageLink switches the page to another language.
type LanguageLink struct {
	Code, Name, URL string
	Current         bool
}

// User is the signed-in person, as shown in the header.
type User struct {
	Name     string
	Username string
	TenantID string
	Company  string // the partner's company name; "" until Partner Center has told it
	Domain   string // the company's domain, with Company
}

// Field is one input of the form.
type Field struct {
	Name         string // form name: email, telephone, website
	Label        string
	Type         string // input type
	Autocomplete string
	InputMode    string
	Hint         string
	Value        string
	Error        string // empty when valid
	// Suggestion says that Value is a better form of what was typed, now in the field, and how
	// to keep what was typed instead (ProfileForm.Keep). It is not an error.
	Suggestion string
	MaxLength  int
	Changed    bool // differs from what was loaded
}

// focusTarget is the field keyboard focus goes to after a save: the first one in error, else
// the first with a suggestion.
func (f ProfileForm) focusTarget() string {
	for _, fld := range f.Fields {
		if fld.Error != "" {
			return fld.Name
		}
	}
	for _, fld := range f.Fields {
		if fld.Suggestion != "" {
			return fld.Name
		}
	}
	return ""
}

// ErrorID, SuggestionID and HintID name the elements the input's aria-describedby points at.
func (f Field) ErrorID() string      { return f.Name + "-error" }
func (f Field) SuggestionID() string { return f.Name + "-suggestion" }
func (f Field) HintID() string       { return f.Name + "-hint" }

// NoticeKind says how a notice is shown and announced.
type NoticeKind int

const (
	NoticeSuccess NoticeKind = iota
	NoticeInfo
	NoticeError
)

// Notice is a message about what just happened.
type Notice struct {
	Kind    NoticeKind
	Title   string
	Lines   []string
	Changes []Change
	Details []Detail // status, Partner Center code, correlation id, ...
	Actions []Action // what the person can do next, as links
}

// Change is one field that a save changed.
type Change struct {
	Label, Before, After string
}

// Detail is a labelled fact for support, such as the correlation id.
type Detail struct {
	Label, Value string
	Copy         bool // offer a copy button (shown only where JavaScript runs)
}

// ProfileFormID is the id of the support profile's <form>.
const ProfileFormID = "profile-form"

// ProfileForm is the support profile form and the outcome of the last action on it.
type ProfileForm struct {
	Action     string // where the form posts
	CSRFToken  string
	Fields     []Field
	Loaded     string // the values the form was loaded with, encoded (encodeLoaded), sent back with the form
	Submission string // identifies this rendering of the form, so a repeated submission is recognised
	Notice     *Notice
	Conflict   *Conflict // set when someone else changed the profile since it was loaded
	// Restore says whose values the form shows when it was opened from "Put these values back"
	// in the history (or why it could not be); RestoredFrom is that entry's id, sent back with
	// the form so that the save's history entry names it ("" when none).
	Restore      *Notice
	RestoredFrom string
	// Unavailable is set when the profile could not be loaded: no form is shown, so nobody can
	// save empty values over the real ones.
	Unavailable bool
	ReloadURL   string
	History     *HistoryLine // nil when no change history is kept
	// ReadOnly, when set, replaces the form: Partner Center refused this person's save for their
	// role, so the values are shown without one.
	ReadOnly *ReadOnly
	// SaveBlockedUntil (RFC 3339) turns Save off until then: Partner Center asked the partner to
	// wait. static/app.js turns it back on at that moment; without JavaScript a reload does.
	SaveBlockedUntil string
	// Keep, beside Save, saves a value as the person typed it instead of the form a field
	// suggests (Field.Suggestion); nil when nothing is suggested.
	Keep *Keep
}

// Keep is a submit button that sends a value as typed: its name and value are the form's.
type Keep struct {
	Name, Value, Label string
}

// HistoryLine is the line under the form about the last change, with the link to the history.
type HistoryLine struct {
	// Prefix, Time and Suffix make the sentence ("Last changed ", "3 days ago", " by Ada Admin.").
	Prefix, Suffix string
	Time           *Time
	Note           string // the sentence instead, when there is no change to tell of
	URL, Link      string // the history page and the link's words
}

// Time is a moment as people read it, with the machine-readable form beside.
type Time struct {
	Datetime string // RFC 3339, for the datetime attribute
	Text     string // what is shown: "3 days ago", or the full time
	Full     string // the full time, on hover and for screen readers, when Text is not it already
}

// HistoryPage is one page of a partner's change history, newest first.
type HistoryPage struct {
	Page
	Notice          *Notice // the history cannot be read
	Empty           string  // a sentence when there is nothing (or no change) to show
	Entries         []HistoryEntry
	NewerURL        string // "" on the newest page
	OlderURL        string // "" on the oldest page
	CSVURL, JSONURL string // the exports; "" when the history cannot be read or nothing is shown
	FormURL         string // back to the support profile
	Filter          *HistoryFilter
	Count           string // "12 entries": how many the filter keeps, over every page
	Zone            string // the sentence saying which time zone the times are in
	// ClearURL, beside Empty, is the history without its filters, when they keep nothing.
	ClearURL string
}

// HistoryFilter is the history page's filter form (a GET form: it works without JavaScript).
type HistoryFilter struct {
	Action                       string
	Field, Made, By, From, Until string // as typed
	Fields, Mades, People        []Option
	Errors                       map[string]string // by parameter name: what is wrong with it
	ClearURL                     string            // the history unfiltered; "" when no filter is set
}

// Option is one choice of a select.
type Option struct{ Value, Label string }

// HistoryEntry is one step of the history.
type HistoryEntry struct {
	Time     Time
	Summary  string // "Saved in this app by", "Changed outside this app", "First recorded"
	Who      string // who saved (saved in this app only)
	Username string // their user name, when it differs from Who
	Changes  []Change
	Values   []Detail // the values as first recorded (the baseline, which is not a change)
	Details  []Detail // the correlation and request ids of a save made here
	Notified string   // how the notifications of this step stand; "" when it told nobody
	Restored string   // "Put back the values of <time>", for a save that put back an entry's values
	// RestoreURL opens the form with this entry's values ("" for a person who cannot save).
	RestoreURL string
}

// ProfilePage is the main page.
type ProfilePage struct {
	Page
	Form  ProfileForm
	Watch *WatchPanel // the watch of changes made outside the app; nil when none can be kept
}

// Action is a link to what the person can do next.
type Action struct {
	Label string
	URL   string
	// External opens the link in a new tab (Microsoft's documentation), so that the page and
	// what was typed in it stay.
	External bool
}

// MessagePage explains something on a page of its own: signed out, a sign-in error, MFA needed.
type MessagePage struct {
	Page
	Notice  Notice
	Actions []Action
}

// Conflict shows, field by field, what the person loaded, what Partner Center has now and what
// they typed, when someone else saved in between.
type Conflict struct {
	Rows          []ConflictRow
	StartAgainURL string
}

// ConflictRow is one field of a conflict: what it was, what it is, and what saving stores.
type ConflictRow struct {
	Label, Loaded, Current string
	Saved                  string // what Save stores: the person's value if they changed it, else the current one
	Theirs                 bool   // changed since the page was opened
	Mine                   bool   // the person changed this field: Save stores their value
}

// ReadOnly shows the support contact to a person whose role may not change it.
type ReadOnly struct {
	Title, Reason    string
	Values           []Detail
	WhoCan           string // who can change them: people who did, or the roles that may
	TryURL, TryLabel string // the form anyway, for a role just granted
	Roles            Action // Microsoft's page on the roles
}
