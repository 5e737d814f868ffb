package pcemu

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

const (
	controlRoot   = "/_emulator"
	controlPrefix = "/_emulator/"
	maxFormBytes  = 64 << 10
)

//go:embed control.html
var controlPage string

var controlTemplate = template.Must(template.New("control").Parse(controlPage))

// controlHandler serves the control surface. Redirects and links are
// relative so the emulator also works mounted under a path prefix.
func (e *Emulator) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_emulator/{$}", func(w http.ResponseWriter, r *http.Request) {
		e.renderPage(w, http.StatusOK, pageData{Form: faultJSON{Count: 1}, Change: e.firstTenantChange()})
	})
	mux.HandleFunc("GET /_emulator/state", func(w http.ResponseWriter, r *http.Request) {
		writeControlJSON(w, http.StatusOK, e.snapshot())
	})
	mux.HandleFunc("GET /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		writeControlJSON(w, http.StatusOK, map[string]any{"faults": e.snapshot().Faults})
	})
	mux.HandleFunc("POST /_emulator/faults", e.postFault)
	mux.HandleFunc("DELETE /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		e.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	// HTML forms cannot send DELETE, so the page's buttons post to these.
	mux.HandleFunc("POST /_emulator/faults/clear", func(w http.ResponseWriter, r *http.Request) {
		e.ClearFaults()
		e.log.Info("pcemu: faults cleared")
		seeOther(w, "../")
	})
	mux.HandleFunc("POST /_emulator/profile", e.postProfile)
	mux.HandleFunc("POST /_emulator/reset", func(w http.ResponseWriter, r *http.Request) {
		e.resetStorage()
		e.log.Info("pcemu: storage reset")
		if wantsJSON(r) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		seeOther(w, "./")
	})
	mux.HandleFunc(controlRoot, func(w http.ResponseWriter, r *http.Request) {
		seeOther(w, "_emulator/")
	})
	mux.HandleFunc(controlPrefix, func(w http.ResponseWriter, r *http.Request) {
		writeControlJSON(w, http.StatusNotFound, map[string]string{"error": "no such control endpoint"})
	})
	// No token guards the control surface, so at least refuse forms posted by other sites.
	return http.NewCrossOriginProtection().Handler(mux)
}

func (e *Emulator) postFault(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if wantsJSON(r) {
		var in faultJSON
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields() // a typo in a tool's field name should not pass silently
		if err := dec.Decode(&in); err != nil {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON fault: " + err.Error()})
			return
		}
		f, err := in.fault()
		if err != nil {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		e.InjectFaults(f)
		e.log.Info("pcemu: fault queued", "fault", toFaultJSON(f))
		writeControlJSON(w, http.StatusCreated, map[string]any{"faults": e.snapshot().Faults})
		return
	}
	in, err := faultFromForm(r)
	if err == nil {
		var f Fault
		if f, err = in.fault(); err == nil {
			e.InjectFaults(f)
			e.log.Info("pcemu: fault queued", "fault", toFaultJSON(f))
			seeOther(w, "./")
			return
		}
	}
	e.renderPage(w, http.StatusBadRequest, pageData{Error: err.Error(), Form: in, Change: e.firstTenantChange()})
}

func faultFromForm(r *http.Request) (faultJSON, error) {
	if err := r.ParseForm(); err != nil {
		return faultJSON{Count: 1}, errors.New("the form could not be read")
	}
	in := faultJSON{
		Method:      r.PostForm.Get("method"),
		Resource:    r.PostForm.Get("resource"),
		Code:        strings.TrimSpace(r.PostForm.Get("code")),
		Description: r.PostForm.Get("description"),
		Body:        r.PostForm.Get("body"),
	}
	switch strings.ToLower(r.PostForm.Get("reset")) {
	case "", "false", "off", "0":
	default:
		in.Reset = true
	}
	var problems []string
	number := func(name string, parse func(string) error) {
		if s := strings.TrimSpace(r.PostForm.Get(name)); s != "" {
			if parse(s) != nil {
				problems = append(problems, name+" must be a number")
			}
		}
	}
	number("count", func(s string) (err error) { in.Count, err = strconv.Atoi(s); return })
	number("status", func(s string) (err error) { in.Status, err = strconv.Atoi(s); return })
	number("retryAfterSeconds", func(s string) (err error) { in.RetryAfterSeconds, err = strconv.ParseFloat(s, 64); return })
	number("delayMs", func(s string) (err error) { in.DelayMs, err = strconv.ParseInt(s, 10, 64); return })
	if len(problems) > 0 {
		return in, errors.New("invalid fault: " + strings.Join(problems, "; "))
	}
	return in, nil
}

func wantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json"
}

type pageData struct {
	snapshot
	Error     string
	Form      faultJSON     // the fault form's values
	Change    profileChange // the profile form's values
	BodyKinds []string
	AppURL    string    // the app that uses the emulator, "" when unknown
	Partners  []partner // the tenants a profile can be changed for, by name
}

// partner is a tenant as the control page names it.
type partner struct {
	TenantID, Name string
}

// renderPage shows the state with data's problem and form values.
func (e *Emulator) renderPage(w http.ResponseWriter, status int, data pageData) {
	var b bytes.Buffer
	data.snapshot, data.BodyKinds, data.AppURL = e.snapshot(), bodyKindNames, e.appURL
	data.Partners = e.partners()
	if err := controlTemplate.Execute(&b, data); err != nil {
		e.log.Error("pcemu: render control page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(marshal(v))
}

// seeOther redirects after a form post. The location is relative on purpose:
// http.Redirect would make it absolute and lose any mount prefix.
func seeOther(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}
