// Package devnotify is the development stand-in for the receivers of the app's notifications:
// one http.Handler that takes the three formats (a Standard Webhooks receiver at /standard,
// checking each signature with the app's secret; a Teams workflow's webhook at /teams; a Slack
// incoming webhook at /slack), keeps the last messages in memory, and shows them on a page at /
// (and as JSON at /messages). Like internal/devidp and internal/pcemu it is for --dev and tests
// only, never in the production build.
package devnotify

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"pcsupport/internal/notify"
)

// Keep is how many messages the receiver keeps, the oldest forgotten first.
const Keep = 200

// maxBody bounds a message's body: the app's are a few kilobytes.
const maxBody = 1 << 20

// Message is one request the receiver took.
type Message struct {
	Format   string    `json:"format"` // standard, teams or slack: the path it came to
	Received time.Time `json:"received"`
	ID       string    `json:"id,omitempty"` // webhook-id (standard)
	// Verified says the Standard Webhooks signature checks out with the secret; Signature says
	// so in words, or why not ("not signed" for Teams and Slack, which sign nothing).
	Verified  bool   `json:"verified"`
	Signature string `json:"signature"`
	Status    int    `json:"status"`            // what the receiver answered
	Problem   string `json:"problem,omitempty"` // what a real receiver would refuse in it
	Body      string `json:"body"`              // as received, JSON indented when it is JSON
}

// Receiver is the stand-in. Build it with New.
type Receiver struct {
	secret notify.Secret
	now    func() time.Time
	mux    *http.ServeMux

	mu       sync.Mutex
	messages []Message // oldest first
	down     bool
}

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

// New makes a receiver that checks Standard Webhooks signatures with secret (the app's
// --notify-secret).
func New(secret notify.Secret) *Receiver {
	r := &Receiver{secret: secret, now: time.Now, mux: http.NewServeMux()}
	for _, f := range []notify.Format{notify.Standard, notify.Teams, notify.Slack} {
		r.mux.HandleFunc("POST /"+string(f), func(w http.ResponseWriter, req *http.Request) { r.take(w, req, f) })
	}
	r.mux.HandleFunc("GET /{$}", r.showPage)
	r.mux.HandleFunc("GET /messages", r.showMessages)
	r.mux.HandleFunc("POST /down", r.setDownForm)
	return r
}

// URLs is the app's --notify-webhooks for a receiver served at base (such as
// http://127.0.0.1:41234): one receiver of each format.
func (r *Receiver) URLs(base string) string {
	base = strings.TrimSuffix(base, "/")
	return base + "/standard teams:" + base + "/teams slack:" + base + "/slack"
}

// ServeHTTP serves the receivers, the page and the JSON.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

// Messages are the messages kept, newest first.
func (r *Receiver) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.messages)
	slices.Reverse(out)
	return out
}

// SetDown makes the receiver answer every message 503 (true) or take them again (false), so
// that the app's retries can be watched.
func (r *Receiver) SetDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// take records a message and answers as the real receiver would: Slack 200 "ok", a Teams
// workflow 202 Accepted, a Standard Webhooks receiver 204, or 401 when the signature does not
// verify; 400 for a body the service could not read; 503 while down.
func (r *Receiver) take(w http.ResponseWriter, req *http.Request, f notify.Format) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	m := Message{Format: string(f), Received: r.now().UTC(), Body: pretty(body), Signature: "not signed (as " + string(f) + " expects)"}
	status, answer := http.StatusOK, "ok"
	switch f {
	case notify.Standard:
		m.ID = req.Header.Get(notify.HeaderID)
		if err := r.secret.Verify(req.Header, body, r.now()); err != nil {
			m.Signature = err.Error()
			status, answer = http.StatusUnauthorized, "signature does not verify"
		} else {
			m.Verified, m.Signature = true, "verifies"
			status, answer = http.StatusNoContent, ""
		}
	case notify.Teams:
		status, answer = http.StatusAccepted, ""
	}
	if m.Problem = problem(f, body); m.Problem != "" && status < 300 {
		status, answer = http.StatusBadRequest, "invalid_payload"
	}
	r.mu.Lock()
	if r.down {
		status, answer = http.StatusServiceUnavailable, "down (the dev receiver's page can bring it back)"
	}
	m.Status = status
	r.messages = append(r.messages, m)
	if len(r.messages) > Keep {
		r.messages = slices.Delete(r.messages, 0, len(r.messages)-Keep)
	}
	r.mu.Unlock()
	if status == http.StatusNoContent || status == http.StatusAccepted {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

// problem is what the service would refuse in a body, in a few words; "" when nothing.
func problem(f notify.Format, body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return "not a JSON object: " + err.Error()
	}
	switch f {
	case notify.Teams:
		attachments, _ := m["attachments"].([]any)
		if m["type"] != "message" || len(attachments) == 0 {
			return `a Teams workflow wants {"type":"message","attachments":[...]}`
		}
	case notify.Slack:
		if _, ok := m["text"].(string); !ok {
			if _, ok := m["blocks"].([]any); !ok {
				return "a Slack message needs text or blocks"
			}
		}
	case notify.Standard:
		if _, ok := m["type"].(string); !ok {
			return "a Standard Webhooks payload has a type"
		}
	}
	return ""
}

// pretty indents a JSON body; another is kept as it came.
func pretty(body []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, body, "", "  ") != nil {
		return string(body)
	}
	return buf.String()
}

func (r *Receiver) showPage(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	down := r.down
	r.mu.Unlock()
	var buf bytes.Buffer
	if err := page.Execute(&buf, map[string]any{"Messages": r.Messages(), "Down": down, "Keep": Keep}); err != nil {
		http.Error(w, fmt.Sprintf("page: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (r *Receiver) showMessages(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	messages := r.Messages()
	if messages == nil {
		messages = []Message{}
	}
	json.NewEncoder(w).Encode(messages)
}

func (r *Receiver) setDownForm(w http.ResponseWriter, req *http.Request) {
	r.SetDown(req.FormValue("down") == "true")
	http.Redirect(w, req, "./", http.StatusSeeOther)
}
