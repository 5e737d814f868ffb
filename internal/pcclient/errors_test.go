package pcclient

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestField(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		desc string
		want string
	}{
		{KindInvalidInput, "The property 'Email' is invalid", "email"},
		{KindInvalidInput, "EMAIL is not valid", "email"},
		{KindInvalidInput, "Invalid e-mail address", "email"},
		{KindInvalidInput, "The property 'Telephone' is invalid", "telephone"},
		{KindInvalidInput, "phone number too long", "telephone"},
		{KindInvalidInput, "The property 'Website' is invalid", "website"},
		{KindInvalidInput, "Website must be a URL, not an email", "website"},
		{KindInvalidInput, "Invalid request input", ""},
		{KindInvalidInput, "", ""},
		{KindForbidden, "The property 'Email' is invalid", ""},
	} {
		e := &Error{Kind: tc.kind, Description: tc.desc}
		if got := e.Field(); got != tc.want {
			t.Errorf("%v %q: Field() = %q, want %q", tc.kind, tc.desc, got, tc.want)
		}
	}
	var nilErr *Error
	if nilErr.Field() != "" {
		t.Error("nil Field")
	}
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := KindUnknown; k <= KindBadResponse; k++ {
		s := k.String()
		if s == "" || strings.HasPrefix(s, "Kind(") || seen[s] {
			t.Errorf("Kind %d String() = %q", int(k), s)
		}
		seen[s] = true
	}
	if got := Kind(99).String(); got != "Kind(99)" {
		t.Errorf("Kind(99) = %q", got)
	}
	if got := Kind(-1).String(); got != "Kind(-1)" {
		t.Errorf("Kind(-1) = %q", got)
	}
}

func TestKindOf(t *testing.T) {
	e := &Error{Kind: KindConflict}
	if KindOf(fmt.Errorf("a: %w", fmt.Errorf("b: %w", e))) != KindConflict {
		t.Error("KindOf does not see through wrapping")
	}
	if KindOf(errors.New("x")) != KindUnknown || KindOf(nil) != KindUnknown {
		t.Error("KindOf of a foreign error")
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{
		Op: opUpdate, Status: 429, Code: "", Description: "Rate limit is exceeded.",
		CorrelationID: "c-1", RequestID: "r-1", RetryAfter: 57 * time.Second, Kind: KindThrottled,
	}
	want := "update support profile: HTTP 429 throttled: Rate limit is exceeded., retry after 57s (MS-CorrelationId c-1, MS-RequestId r-1)"
	if got := e.Error(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	t2 := &Error{Op: opGet, Kind: KindUnavailable, Err: io.ErrUnexpectedEOF, CorrelationID: "c", RequestID: "r"}
	if got := t2.Error(); got != "get support profile: unavailable: unexpected EOF (MS-CorrelationId c, MS-RequestId r)" {
		t.Errorf("transport: %q", got)
	}
	if !errors.Is(t2, io.ErrUnexpectedEOF) || t2.Unwrap() != io.ErrUnexpectedEOF {
		t.Error("Unwrap")
	}
	f := &Error{Op: opGet, Status: 403, Code: "900150", Kind: KindForbidden}
	if got := f.Error(); !strings.HasPrefix(got, "get support profile: HTTP 403 forbidden, code 900150 (") {
		t.Errorf("forbidden: %q", got)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		want   Kind
	}{
		{400, "", KindInvalidInput}, {400, "12345", KindInvalidInput},
		{401, "", KindUnauthenticated}, {401, "999", KindUnauthenticated},
		{401, "10001", KindMFARequired}, {401, "900421", KindMFARequired}, {401, "900420", KindWrongAudience},
		{403, "", KindForbidden}, {404, "", KindNotFound}, {409, "", KindConflict}, {412, "", KindConflict},
		{429, "", KindThrottled}, {408, "", KindUnavailable}, {500, "", KindUnavailable}, {501, "", KindUnavailable},
		{599, "", KindUnavailable}, {417, "", KindUnknown}, {405, "", KindUnknown}, {302, "", KindUnknown},
	} {
		if got := classify(tc.status, tc.code); got != tc.want {
			t.Errorf("classify(%d, %q) = %v, want %v", tc.status, tc.code, got, tc.want)
		}
	}
}
