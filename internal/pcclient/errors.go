package pcclient

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is the one typed error for every failed call: an HTTP status, or a transport failure
// with Status 0.
type Error struct {
	Op            string        // "get support profile" / "update support profile"
	Status        int           // HTTP status; 0 for transport errors/timeouts
	Code          string        // Partner Center error code ("900150"); "" when none
	Description   string        // from "description" or (429 shape) "message"; at most 1024 runes
	CorrelationID string        // MS-CorrelationId from the response, else the one sent
	RequestID     string        // MS-RequestId from the response, else the one sent
	RetryAfter    time.Duration // from Retry-After, or from the 429 message "Try again in 57 seconds."
	Kind          Kind
	Err           error // underlying cause (transport error, JSON error), for Unwrap

	// retryAfterSet tells "no hint" from an explicit zero wait.
	retryAfterSet bool
}

// Error reads like "update support profile: HTTP 403 forbidden, code 900150: ... (MS-CorrelationId
// ..., MS-RequestId ...)" so a log line alone is enough to open a support case.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.summary())
	if e.Code != "" {
		fmt.Fprintf(&b, ", code %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	fmt.Fprintf(&b, " (MS-CorrelationId %s, MS-RequestId %s)", e.CorrelationID, e.RequestID)
	return b.String()
}

// summary is the status and kind alone, e.g. "HTTP 503 unavailable".
func (e *Error) summary() string {
	if e.Status == 0 {
		return e.Kind.String()
	}
	return fmt.Sprintf("HTTP %d %s", e.Status, e.Kind)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Field names the contact field a KindInvalidInput error is about: "email", "telephone" or
// "website" when the description names that property (case-insensitively), else "".
func (e *Error) Field() string {
	if e == nil || e.Kind != KindInvalidInput {
		return ""
	}
	d := strings.ToLower(e.Description)
	field, at := "", -1
	for _, w := range []struct{ word, field string }{
		{"email", "email"},
		{"e-mail", "email"},
		{"telephone", "telephone"},
		{"phone", "telephone"},
		{"website", "website"},
		{"web site", "website"},
	} {
		// The first property named is the one the message is about.
		if i := strings.Index(d, w.word); i >= 0 && (at < 0 || i < at) {
			field, at = w.field, i
		}
	}
	return field
}

// Kind is what a failure means for the person using the app.
type Kind int

// The kinds of failure. KindUnknown also covers a call the caller cancelled and statuses with
// no meaning here (417, an unfollowed 3xx).
const (
	KindUnknown         Kind = iota
	KindInvalidInput         // 400 (3000, 800002, or any 400)
	KindUnauthenticated      // 401 with 400/800001/other or no code: sign in again
	KindMFARequired          // 401 with 10001 or 900421
	KindWrongAudience        // 401 with 900420: configuration problem
	KindForbidden            // 403 (900150, 2032, any)
	KindNotFound             // 404
	KindConflict             // 409 (and 412)
	KindThrottled            // 429
	KindUnavailable          // 408, 5xx, timeouts, refused/reset connections, after retries
	KindBadResponse          // 2xx whose body is empty, not JSON, truncated, HTML, or over the size limit
)

var kindNames = [...]string{
	KindUnknown:         "unknown",
	KindInvalidInput:    "invalid_input",
	KindUnauthenticated: "unauthenticated",
	KindMFARequired:     "mfa_required",
	KindWrongAudience:   "wrong_audience",
	KindForbidden:       "forbidden",
	KindNotFound:        "not_found",
	KindConflict:        "conflict",
	KindThrottled:       "throttled",
	KindUnavailable:     "unavailable",
	KindBadResponse:     "bad_response",
}

// String returns a stable snake_case name, fit for log attributes and metrics labels.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// KindOf returns the Kind of err, or KindUnknown when err is not (wrapping) an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e.Kind
	}
	return KindUnknown
}

// classify maps a non-2xx status and Partner Center code to a Kind.
func classify(status int, code string) Kind {
	switch {
	case status == 400:
		return KindInvalidInput
	case status == 401:
		switch code {
		case "10001", "900421":
			return KindMFARequired
		case "900420":
			return KindWrongAudience
		}
		return KindUnauthenticated
	case status == 403:
		return KindForbidden
	case status == 404:
		return KindNotFound
	case status == 409, status == 412:
		return KindConflict
	case status == 429:
		return KindThrottled
	case status == 408, status >= 500 && status <= 599:
		return KindUnavailable
	}
	return KindUnknown
}
