package handlers

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/history"
	"pcsupport/internal/views"
)

// historyExport writes a tenant's entries, newest first, in one file format, as they come from
// the store (a long history is never held in memory).
type historyExport interface {
	begin(w io.Writer, tenantID string, at time.Time) error
	entry(e history.Entry) error
	flush() error // what entry buffered goes to w
	end() error
}

// exportFlushEvery is how many entries an export writes before it flushes: a long history then
// streams (uncompressed) instead of being held whole in memory to be compressed.
var exportFlushEvery = 1000

// What the exports running at once may take (issue 19). An export holds no database connection
// while it waits on its reader, but it holds a goroutine, a page of entries and its connection's
// buffers for as long as the reader's link takes, and reads the tenant's whole history.
const (
	// exportsPerPerson: a second download while the first runs is a repeated click or a script,
	// not a need; refusing it also keeps one person from taking the slots of all.
	exportsPerPerson = 1
	// exportsInAll bounds what the downloads of everyone together cost one process: each holds
	// a page of entries (up to about 600 KB with the longest values), the compressor's 64 KB
	// and its connection's kernel buffers (megabytes) for as long as its reader takes. An
	// auditor's download is rare; four at once is more than one company needs. (The store
	// reads pages for two of them at a time, so that they leave connections to page views and
	// saves.)
	exportsInAll = 4
	// exportRetryAfter is how long a refused download is asked to wait (Retry-After, and the
	// page says it).
	exportRetryAfter = 30 * time.Second
	// exportWriteTimeout is how long each write of an export may wait for its reader. A write
	// sends at most about 68 KB (the compressor's 64 KB block and the CSV writer's 4 KB), so a
	// link of 2.3 KB/s still gets the whole file, however long that takes, while a download its
	// reader stopped taking is cut after this long, its slot freed.
	exportWriteTimeout = 30 * time.Second
)

func (h *Handlers) exportHistoryCSV(c echo.Context) error {
	return h.exportHistory(c, "csv", "text/csv; charset=utf-8", &csvExport{})
}

func (h *Handlers) exportHistoryJSON(c echo.Context) error {
	return h.exportHistory(c, "json", "application/json", &jsonExport{})
}

// exportHistory sends the history of the signed-in person's partner tenant (from the session,
// never from the request) as a file to download, for auditors.
func (h *Handlers) exportHistory(c echo.Context, ext, contentType string, x historyExport) error {
	u := currentUser(c)
	if u.MFAMissing() {
		return h.mfaPage(c)
	}
	tenant := historyTenant(currentUser(c))
	if tenant == "" {
		return echo.ErrNotFound
	}
	f := parseHistoryFilter(c.QueryParams(), zone(c))
	if !f.ok() {
		// A link the history page made carries a filter it took; this one was edited.
		l := h.loc(c)
		n := noticeOf(views.NoticeError, l, "history.filter.badExport.title", "history.filter.badExport.line")
		return h.messagePage(c, http.StatusBadRequest, n.Title, n, views.Action{Label: l.T("history.link"), URL: h.basePath + "history"})
	}
	release, refused := h.exports.take(u.Subject)
	if refused != exportAccepted {
		return h.exportRefused(c, refused)
	}
	defer release()
	out := newDeadlineWriter(c.Response(), h.exportWriteDeadline)
	now := time.Now().UTC()
	started, written := false, 0
	start := func() error {
		if started {
			return nil
		}
		started = true
		hdr := c.Response().Header()
		hdr.Set(echo.HeaderContentType, contentType)
		hdr.Set(echo.HeaderContentDisposition, `attachment; filename="`+exportFileName(h.CompanyName(u.TenantID), now, ext)+`"`)
		hdr.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
		return x.begin(out, tenant, now)
	}
	err := h.history.Export(c.Request().Context(), tenant, f.filter, func(e history.Entry) error {
		if err := start(); err != nil {
			return err
		}
		if err := x.entry(e); err != nil {
			return err
		}
		if written++; written%exportFlushEvery == 0 {
			if err := x.flush(); err != nil {
				return err
			}
			return out.flush()
		}
		return nil
	})
	if err == nil {
		if err = start(); err == nil {
			err = x.end()
		}
	}
	switch {
	case err == nil:
		return nil
	case !started:
		h.logger(c).Error("change history not readable for export", "tenant_id", tenant, "err", err)
		l := h.loc(c)
		n := noticeOf(views.NoticeError, l, "history.unavailable.title", "history.unavailable.line")
		return h.messagePage(c, http.StatusServiceUnavailable, n.Title, n, views.Action{Label: l.T("history.back"), URL: h.basePath + "history"})
	default:
		// Half a file is sent: cut the connection, so that the download fails visibly instead of
		// looking complete.
		h.logger(c).Error("change history export cut short", "tenant_id", tenant, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// exportFileName is the name an export is saved under: the company's, when known, then what it
// is and the day (UTC), "contoso-support-profile-history-2026-12-05.csv". ASCII only, so that
// it needs no encoding in the header and every file system takes it.
func exportFileName(company string, day time.Time, ext string) string {
	name := "support-profile-history-" + day.UTC().Format("2006-01-02") + "." + ext
	if s := slug(company); s != "" {
		name = s + "-" + name
	}
	return name
}

// exportRefusal says which limit refused an export.
type exportRefusal int

const (
	exportAccepted exportRefusal = iota
	exportBusyForPerson
	exportBusyInAll
)

// exportSlots counts the exports running, per person and in all.
type exportSlots struct {
	mu       sync.Mutex
	inAll    int
	byPerson map[string]int
}

// take holds a slot for an export of person's until release; or says which limit refuses it.
func (s *exportSlots) take(person string) (release func(), refused exportRefusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.byPerson[person] >= exportsPerPerson:
		return nil, exportBusyForPerson
	case s.inAll >= exportsInAll:
		return nil, exportBusyInAll
	}
	if s.byPerson == nil {
		s.byPerson = map[string]int{}
	}
	s.byPerson[person]++
	s.inAll++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.inAll--
		if s.byPerson[person]--; s.byPerson[person] == 0 {
			delete(s.byPerson, person)
		}
	}, exportAccepted
}

// exportRefused answers a download refused by a limit: 429, Retry-After, and a page saying why
// and how long to wait, in the person's language.
func (h *Handlers) exportRefused(c echo.Context, refused exportRefusal) error {
	l := h.loc(c)
	n, busy := noticeOf(views.NoticeInfo, l, "history.export.busyAll.title", "history.export.busyAll.line"), "all"
	if refused == exportBusyForPerson {
		n, busy = noticeOf(views.NoticeInfo, l, "history.export.busyPerson.title", "history.export.busyPerson.line"), "person"
	}
	wait := int(exportRetryAfter / time.Second)
	n.Lines = append(n.Lines, l.T("history.export.retry", "Count", wait))
	h.logger(c).Info("change history export refused", "tenant_id", historyTenant(currentUser(c)), "busy", busy)
	c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
	return h.messagePage(c, http.StatusTooManyRequests, n.Title, n, views.Action{Label: l.T("history.link"), URL: h.basePath + "history"})
}

// deadlineWriter is an export's answer: each write and flush gets a write deadline of its own,
// so that a reader on a slow link gets the whole file however long it takes, while one that
// stops reading is cut after timeout (the server's WriteTimeout, for the whole answer, would do
// both wrong).
type deadlineWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
}

func newDeadlineWriter(w http.ResponseWriter, timeout time.Duration) *deadlineWriter {
	return &deadlineWriter{w: w, rc: http.NewResponseController(w), timeout: timeout}
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if err := d.renew(); err != nil {
		return 0, err
	}
	return d.w.Write(p)
}

func (d *deadlineWriter) flush() error {
	if err := d.renew(); err != nil {
		return err
	}
	return d.rc.Flush()
}

// renew sets the deadline of the next write; a writer without deadlines (a test's recorder)
// writes without.
func (d *deadlineWriter) renew() error {
	if err := d.rc.SetWriteDeadline(time.Now().Add(d.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// csvHeader names the CSV columns; the names are for scripts as much as people, so they are the
// same in every language.
var csvHeader = []string{"when", "kind", "who_name", "who_username",
	"email_before", "email_after", "telephone_before", "telephone_after", "website_before", "website_after",
	"correlation_id", "request_id", "changed_fields"}

type csvExport struct{ w *csv.Writer }

func (x *csvExport) begin(w io.Writer, _ string, _ time.Time) error {
	// The byte order mark makes spreadsheet programs read the file as UTF-8 (names with accents).
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	x.w = csv.NewWriter(w)
	return x.w.Write(csvHeader)
}

func (x *csvExport) entry(e history.Entry) error {
	row := []string{machineTime(e.At), string(e.Kind), e.By.Name, e.By.Username,
		e.Before.Email, e.After.Email, e.Before.Telephone, e.After.Telephone, e.Before.Website, e.After.Website,
		e.CorrelationID, e.RequestID, changedFields(e)}
	for i, v := range row {
		row[i] = inertCell(v)
	}
	return x.w.Write(row)
}

// changedFields names the details an entry changed, "email;telephone"; "" for the baseline,
// which changed none.
func changedFields(e history.Entry) string {
	if e.Kind == history.KindBaseline {
		return ""
	}
	var names []string
	for _, s := range fieldSpecs {
		if e.Before.Get(s.field) != e.After.Get(s.field) {
			names = append(names, s.name())
		}
	}
	return strings.Join(names, ";")
}

func (x *csvExport) flush() error {
	x.w.Flush()
	return x.w.Error()
}

func (x *csvExport) end() error { return x.flush() }

// inertCell keeps a spreadsheet from running a value as a formula (CSV injection): the values
// were typed by people. A telephone "+33 1 23 45 67 89" reads "'+33 1 23 45 67 89".
func inertCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// jsonExport writes {"tenant_id", "exported_at", "entries": [...]}, one entry at a time.
type jsonExport struct {
	w     io.Writer
	count int
}

type jsonContacts struct {
	Email     string `json:"email"`
	Telephone string `json:"telephone"`
	Website   string `json:"website"`
}

type jsonPerson struct {
	Name     string `json:"name"`
	Username string `json:"username"`
	ObjectID string `json:"object_id"`
}

// jsonEntry is one entry: by is null unless saved in this app; before is null for the baseline.
type jsonEntry struct {
	At            string        `json:"at"`
	Kind          history.Kind  `json:"kind"`
	By            *jsonPerson   `json:"by"`
	Before        *jsonContacts `json:"before"`
	After         jsonContacts  `json:"after"`
	CorrelationID string        `json:"correlation_id"`
	RequestID     string        `json:"request_id"`
}

func (x *jsonExport) begin(w io.Writer, tenantID string, at time.Time) error {
	x.w = w
	head, _ := json.Marshal(struct {
		TenantID   string `json:"tenant_id"`
		ExportedAt string `json:"exported_at"`
	}{tenantID, machineTime(at)})
	// The object is left open for the entries.
	_, err := io.WriteString(w, string(head[:len(head)-1])+`,"entries":[`)
	return err
}

func (x *jsonExport) entry(e history.Entry) error {
	je := jsonEntry{At: machineTime(e.At), Kind: e.Kind, After: jsonContacts(e.After),
		CorrelationID: e.CorrelationID, RequestID: e.RequestID}
	if e.Kind == history.KindSaved {
		je.By = &jsonPerson{Name: e.By.Name, Username: e.By.Username, ObjectID: e.By.ObjectID}
	}
	if e.Kind != history.KindBaseline {
		before := jsonContacts(e.Before)
		je.Before = &before
	}
	b, err := json.Marshal(je)
	if err != nil {
		return err
	}
	sep := "\n"
	if x.count > 0 {
		sep = ",\n"
	}
	x.count++
	_, err = io.WriteString(x.w, sep+string(b))
	return err
}

func (x *jsonExport) flush() error { return nil } // entry writes straight through

func (x *jsonExport) end() error {
	_, err := io.WriteString(x.w, "\n]}\n")
	return err
}
