package pcemu

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// apiError is a refusal in Partner Center's usual error shape.
type apiError struct {
	status      int
	code        string
	description string
}

type errorBody struct {
	Code        string   `json:"code"`
	Description string   `json:"description"`
	Data        []string `json:"data"`
	Source      string   `json:"source"`
}

func (a *apiError) body() []byte {
	return marshal(errorBody{Code: a.code, Description: a.description, Data: []string{}, Source: "PartnerFD"})
}

func errBadInput(description string) *apiError {
	return &apiError{http.StatusBadRequest, "800002", description}
}

// throttledBody is the other shape a 429 has.
func throttledBody(retryAfter time.Duration) []byte {
	return marshal(struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}{429, "Rate limit is exceeded. Try again in " + strconv.Itoa(retrySeconds(retryAfter)) + " seconds."})
}

// retrySeconds rounds up, and never says 0, which would invite an immediate retry.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// setTraceHeaders echoes the client's ids, or makes them, as the service does.
func setTraceHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for _, name := range []string{"MS-CorrelationId", "MS-RequestId"} {
		v := r.Header.Get(name)
		if v == "" {
			v = uuid.NewString()
		}
		h.Set(name, v)
	}
	id := uuid.New()
	h.Set("MS-CV", base64.RawStdEncoding.EncodeToString(id[:12])+".0")
}

func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.ToLower(r.URL.Path), "/")
	// Faults come before the token check so a test can inject an outage
	// whatever token it holds.
	if f, ok := e.takeFault(r.Method, resourceOf(path)); ok && e.serveFault(w, r, f) {
		return
	}
	c, refusal := e.authenticate(r)
	if refusal != nil {
		tenantID := claimedTenant(r)
		if c != nil {
			tenantID = c.TenantID
		}
		e.refuse(w, r, tenantID, refusal)
		return
	}
	if wait, ok := e.throttle(c.TenantID); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(wait)))
		e.writeJSON(w, http.StatusTooManyRequests, throttledBody(wait))
		e.finish(w, r, c.TenantID, http.StatusTooManyRequests, "throttled", outcomeRefused)
		return
	}

	switch {
	case path == organizationPath && r.Method == http.MethodGet:
		e.writeJSON(w, http.StatusOK, e.organizationJSON(c.TenantID))
		e.finish(w, r, c.TenantID, http.StatusOK, "", outcomeGet)
	case path == organizationPath:
		w.Header().Set("Allow", "GET")
		e.refuse(w, r, c.TenantID, &apiError{http.StatusMethodNotAllowed, "405",
			"The requested resource does not support http method '" + r.Method + "'."})
	case path == supportPath && r.Method == http.MethodGet:
		e.writeJSON(w, http.StatusOK, e.loadProfile(c.TenantID).resourceJSON())
		e.finish(w, r, c.TenantID, http.StatusOK, "", outcomeGet)
	case (path == supportPath || path == supportPutPath) && r.Method == http.MethodPut:
		e.update(w, r, c)
	case path == supportPath:
		w.Header().Set("Allow", "GET, PUT")
		e.refuse(w, r, c.TenantID, &apiError{http.StatusMethodNotAllowed, "405",
			"The requested resource does not support http method '" + r.Method + "'."})
	case path == supportPutPath:
		w.Header().Set("Allow", "PUT")
		e.refuse(w, r, c.TenantID, &apiError{http.StatusMethodNotAllowed, "405",
			"The requested resource does not support http method '" + r.Method + "'."})
	default:
		e.refuse(w, r, c.TenantID, &apiError{http.StatusNotFound, "1000",
			"The requested resource '" + r.URL.Path + "' was not found."})
	}
}

func (e *Emulator) update(w http.ResponseWriter, r *http.Request, c *claims) {
	if role := e.roleOf(c); !mayUpdate(role) {
		e.refuse(w, r, c.TenantID, &apiError{http.StatusForbidden, "900150",
			"Your Partner Center role does not allow updating the support profile. " +
				"Only a Global admin, an Account admin or an Admin agent can update it."})
		return
	}
	body, refusal := readBody(r)
	if refusal == nil {
		var p profile
		p, refusal = parseProfile(body)
		if refusal == nil {
			// Last writer wins: the service has no ETag for this resource.
			e.storeProfile(c.TenantID, p)
			e.writeJSON(w, http.StatusOK, p.resourceJSON())
			e.finish(w, r, c.TenantID, http.StatusOK, "", outcomePut)
			return
		}
	}
	e.refuse(w, r, c.TenantID, refusal)
}

// readBody reads at most maxBodyBytes, so a huge body costs no memory.
func readBody(r *http.Request) ([]byte, *apiError) {
	tooLarge := errBadInput("The request body is larger than " + strconv.Itoa(maxBodyBytes) + " bytes.")
	if r.ContentLength > maxBodyBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return nil, tooLarge
	case err != nil:
		return nil, errBadInput("The request body could not be read.")
	}
	return body, nil
}

func (e *Emulator) refuse(w http.ResponseWriter, r *http.Request, tenantID string, a *apiError) {
	e.writeJSON(w, a.status, a.body())
	e.finish(w, r, tenantID, a.status, a.code, outcomeRefused)
}

func (e *Emulator) writeJSON(w http.ResponseWriter, status int, body []byte) {
	if e.bom {
		body = append([]byte("\uFEFF"), body...)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client gone away is not our problem
}

// finish counts the request and logs it.
func (e *Emulator) finish(w http.ResponseWriter, r *http.Request, tenantID string, status int, detail string, o outcome) {
	e.count(tenantID, resourceOf(strings.TrimSuffix(strings.ToLower(r.URL.Path), "/")), o)
	level := slog.LevelInfo
	if o == outcomeRefused {
		level = slog.LevelWarn
	}
	e.log.Log(r.Context(), level, "pcemu request",
		"method", r.Method, "path", r.URL.Path, "status", status, "detail", detail, "tenant", tenantID,
		"correlationId", w.Header().Get("MS-CorrelationId"), "requestId", w.Header().Get("MS-RequestId"))
}
