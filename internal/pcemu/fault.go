package pcemu

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault replaces the answer to the next Count matching API requests. It
// applies its Delay, then resets the connection, or answers with Status and
// a body of kind Body. Faulted requests never change stored state.
type Fault struct {
	// Count is how many responses get the fault (default 1).
	Count int
	// Method is "" for any, or "GET" / "PUT".
	Method string
	// Resource is "" for the support profile (and any other path), or ResourceOrganization:
	// a fault meant for the support profile never lands on the organization profile.
	Resource string
	// Status is the HTTP status to answer; 0 answers normally (for a fault
	// that only delays) or, with a Body other than BodyNormal, 200.
	Status int
	// Code is the Partner Center error code in the body ("" = a fitting default per status).
	Code        string
	Description string
	// RetryAfter sets Retry-After (in whole seconds, rounded up) on any
	// status; a 429 always has one (default 1 s) and the 429 body shape.
	RetryAfter time.Duration
	// Delay is waited before answering; a cancelled request stops the wait.
	Delay time.Duration
	Body  BodyKind
	// Reset closes the connection without answering. It needs a real
	// connection (httptest.NewServer, not a ResponseRecorder): without one
	// the handler panics with http.ErrAbortHandler, as net/http expects.
	Reset bool
}

// BodyKind is how a faulted response's body is spoiled.
type BodyKind int

const (
	BodyNormal    BodyKind = iota // the body the status would normally carry
	BodyEmpty                     // no body at all
	BodyMalformed                 // invalid JSON
	BodyTruncated                 // valid JSON cut in half
	BodyHTML                      // a gateway's HTML error page
	BodyOversized                 // a valid-looking JSON body over 2 MiB
)

var bodyKindNames = []string{"normal", "empty", "malformed", "truncated", "html", "oversized"}

func (k BodyKind) String() string {
	if k >= 0 && int(k) < len(bodyKindNames) {
		return bodyKindNames[k]
	}
	return "BodyKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseBodyKind reads a BodyKind name ("normal", "empty", "malformed",
// "truncated", "html", "oversized"; "" is normal).
func ParseBodyKind(s string) (BodyKind, error) {
	if s == "" {
		return BodyNormal, nil
	}
	for i, name := range bodyKindNames {
		if strings.EqualFold(s, name) {
			return BodyKind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown body kind %q (want one of %s)", s, strings.Join(bodyKindNames, ", "))
}

// serveFault answers r with f and reports whether it did; a fault that only
// delays lets the request go on normally.
func (e *Emulator) serveFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	tenantID := claimedTenant(r)
	if f.Delay > 0 {
		if err := e.sleep(r.Context(), f.Delay); err != nil {
			e.finish(w, r, tenantID, 0, "cancelled during fault delay", outcomeRefused)
			return true
		}
	}
	if f.Reset {
		e.finish(w, r, tenantID, 0, "fault: reset", outcomeRefused)
		resetConnection(w)
		return true
	}
	if f.Status == 0 && f.Body == BodyNormal {
		return false
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	var body []byte
	switch {
	case status == http.StatusTooManyRequests:
		if f.RetryAfter <= 0 {
			f.RetryAfter = time.Second
		}
		body = throttledBody(f.RetryAfter)
	case status < 300 && f.Resource == ResourceOrganization:
		body = e.organizationJSON(tenantID)
	case status < 300:
		// A success that stored nothing: the current profile, untouched.
		body = e.peekProfile(tenantID).resourceJSON()
	default:
		code, description := f.Code, f.Description
		if code == "" {
			code = defaultCode(status)
		}
		if description == "" {
			description = defaultDescription(status)
		}
		body = (&apiError{status, code, description}).body()
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(f.RetryAfter)))
	}
	e.writeFaultBody(w, status, f.Body, body)
	e.finish(w, r, tenantID, status, "fault: "+f.Body.String(), outcomeRefused)
	return true
}

func (e *Emulator) writeFaultBody(w http.ResponseWriter, status int, kind BodyKind, body []byte) {
	h := w.Header()
	switch kind {
	case BodyEmpty:
		h.Set("Content-Length", "0")
		w.WriteHeader(status)
	case BodyMalformed:
		e.writeJSON(w, status, malformed(body))
	case BodyTruncated:
		e.writeJSON(w, status, body[:len(body)/2])
	case BodyHTML:
		page := gatewayPage(status)
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(page)))
		w.WriteHeader(status)
		_, _ = w.Write(page)
	case BodyOversized:
		// The padding is built once and shared, so oversized answers cost no memory each.
		head := body[:len(body)-1] // without the closing brace
		pad := oversizedPadding()
		if e.bom {
			head = append([]byte("\uFEFF"), head...)
		}
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(head)+len(pad)+1))
		w.WriteHeader(status)
		for _, part := range [][]byte{head, pad, []byte("}")} {
			if _, err := w.Write(part); err != nil {
				return
			}
		}
	default:
		e.writeJSON(w, status, body)
	}
}

// malformed unquotes the first member name: it still looks like the body, but no JSON parser takes it.
func malformed(body []byte) []byte {
	if !bytes.HasPrefix(body, []byte(`{"`)) {
		return append([]byte("{"), body...)
	}
	end := bytes.IndexByte(body[2:], '"')
	if end < 0 {
		return append([]byte("{"), body...)
	}
	out := append([]byte("{"), body[2:2+end]...)
	return append(out, body[3+end:]...)
}

var oversizedPadding = sync.OnceValue(func() []byte {
	const total = 2<<20 + 1024
	chunk := `"` + strings.Repeat("x", 1021) + `",`
	var b bytes.Buffer
	b.Grow(total + len(chunk))
	b.WriteString(`,"padding":[`)
	for b.Len() < total {
		b.WriteString(chunk)
	}
	b.Truncate(b.Len() - 1) // the last comma
	b.WriteString("]")
	return b.Bytes()
})

func gatewayPage(status int) []byte {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return []byte("<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
		"</h1></center>\r\n<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n")
}

func defaultCode(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return "800002"
	case status == http.StatusUnauthorized:
		return "800001"
	case status == http.StatusForbidden:
		return "900150"
	case status == http.StatusNotFound:
		return "1000"
	case status == http.StatusRequestTimeout || status >= 500:
		return "800003"
	}
	return strconv.Itoa(status)
}

func defaultDescription(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "The access token is missing or invalid."
	case status == http.StatusForbidden:
		return "Your Partner Center role does not allow this operation."
	case status == http.StatusConflict:
		return "The resource was changed by another request."
	case status == http.StatusRequestTimeout || status >= 500:
		return "The service could not complete the request. Try again later."
	}
	return http.StatusText(status) + "."
}

// resetConnection closes the connection without a response, with SO_LINGER 0
// so the client sees a reset rather than a clean end of stream.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a recorder: net/http aborts the stream
	}
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// faultJSON is a Fault on the control surface.
type faultJSON struct {
	Count             int     `json:"count"`
	Method            string  `json:"method"`
	Resource          string  `json:"resource,omitempty"` // "" or "support", or "organization"
	Status            int     `json:"status"`
	Code              string  `json:"code"`
	Description       string  `json:"description"`
	RetryAfterSeconds float64 `json:"retryAfterSeconds"`
	DelayMs           int64   `json:"delayMs"`
	Body              string  `json:"body"`
	Reset             bool    `json:"reset"`
}

func toFaultJSON(f Fault) faultJSON {
	return faultJSON{
		Count:             f.Count,
		Method:            f.Method,
		Resource:          f.Resource,
		Status:            f.Status,
		Code:              f.Code,
		Description:       f.Description,
		RetryAfterSeconds: f.RetryAfter.Seconds(),
		DelayMs:           f.Delay.Milliseconds(),
		Body:              f.Body.String(),
		Reset:             f.Reset,
	}
}

// fault validates what a person or tool sent.
func (j faultJSON) fault() (Fault, error) {
	var problems []string
	if j.Count < 0 {
		problems = append(problems, "count must be 0 (meaning 1) or more")
	}
	method := strings.ToUpper(j.Method)
	if method != "" && method != http.MethodGet && method != http.MethodPut {
		problems = append(problems, "method must be empty (any), GET or PUT")
	}
	resource := strings.ToLower(j.Resource)
	switch resource {
	case "", ResourceSupport:
		resource = ""
	case ResourceOrganization:
	default:
		problems = append(problems, "resource must be empty or support (the support profile), or organization")
	}
	if j.Status != 0 && (j.Status < 200 || j.Status > 599) {
		problems = append(problems, "status must be 0 (answer normally) or 200-599")
	}
	if j.RetryAfterSeconds < 0 || j.DelayMs < 0 {
		problems = append(problems, "retryAfterSeconds and delayMs must not be negative")
	}
	kind, err := ParseBodyKind(j.Body)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return Fault{}, fmt.Errorf("invalid fault: %s", strings.Join(problems, "; "))
	}
	return Fault{
		Count:       max(j.Count, 1),
		Method:      method,
		Resource:    resource,
		Status:      j.Status,
		Code:        j.Code,
		Description: j.Description,
		RetryAfter:  time.Duration(j.RetryAfterSeconds * float64(time.Second)),
		Delay:       time.Duration(j.DelayMs) * time.Millisecond,
		Body:        kind,
		Reset:       j.Reset,
	}, nil
}
