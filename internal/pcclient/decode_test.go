package pcclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header, message string
		want            time.Duration
		ok              bool
	}{
		{"57", "", 57 * time.Second, true},
		{" 3 ", "", 3 * time.Second, true},
		{"0", "", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), "", 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), "", 0, true},
		{"Fri, 31 Dec 9999 23:59:59 GMT", "", (1 << 32) * time.Second, true},
		{"99999999999999999", "", (1 << 32) * time.Second, true},
		{"-5", "", 0, false},
		{"soon", "", 0, false},
		{"", "Rate limit is exceeded. Try again in 57 seconds.", 57 * time.Second, true},
		{"", "try again in 1 second", time.Second, true},
		{"bogus", "Try again in 4 seconds.", 4 * time.Second, true},
		{"", "Rate limit is exceeded.", 0, false},
		{"", "", 0, false},
	} {
		got, ok := parseRetryAfter(tc.header, tc.message, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q, %q) = %v, %v; want %v, %v", tc.header, tc.message, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseErrorBody(t *testing.T) {
	for _, tc := range []struct {
		body, code, desc, msg string
		err                   bool
	}{
		{`{"code":"900150","description":"d","data":[],"source":"PartnerFD"}`, "900150", "d", "", false},
		{`{"code":900150,"description":"d"}`, "900150", "d", "", false},
		{`{"Code":" 3000 ","Description":" padded "}`, "3000", "padded", "", false},
		{`{"statusCode":429,"message":"Try again in 5 seconds."}`, "", "", "Try again in 5 seconds.", false},
		{`{"code":{"x":1},"description":42}`, "", "", "", false},
		{`{"code":null}`, "", "", "", false},
		{`{"description":"line1\nline2\u0000 ","message":"\tm"}`, "", "line1 line2", "m", false},
		{"\xEF\xBB\xBF" + `{"code":"1"}`, "1", "", "", false},
		{``, "", "", "", false},
		{`<html>gateway</html>`, "", "", "", true},
		{`{"code":"1","descr`, "", "", "", true},
		{`[1,2]`, "", "", "", true},
	} {
		code, desc, msg, err := parseErrorBody([]byte(tc.body))
		if code != tc.code || desc != tc.desc || msg != tc.msg || (err != nil) != tc.err {
			t.Errorf("%s: got %q %q %q %v", tc.body, code, desc, msg, err)
		}
	}
}

func TestTruncateRunes(t *testing.T) {
	if got := truncateRunes("héllo", 2); got != "hé" {
		t.Errorf("got %q", got)
	}
	if got := truncateRunes("abc", 5); got != "abc" {
		t.Errorf("got %q", got)
	}
}

// FuzzDecodeResponse feeds arbitrary statuses and bodies to the decoder: it must never panic, a
// 2xx gives a Profile or a bad-response *Error, and any other status an *Error of that status.
func FuzzDecodeResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, sampleProfile},
		{200, "\xEF\xBB\xBF" + sampleProfile},
		{200, ""},
		{200, "<html></html>"},
		{200, sampleProfile[:50]},
		{200, `{"Email":4255,"x":{"y":[1,2]},"x":null}`},
		{200, `{"email":"\ud800"}`},
		{201, `{}`},
		{400, `{"code":"3000","description":"The property 'Email' is invalid"}`},
		{401, `{"code":900421,"description":"MFA"}`},
		{429, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 57 seconds."}`},
		{502, "<html>Bad Gateway</html>"},
		{503, "\xEF\xBB\xBF"},
		{500, `{"code":"800003","description":"` + strings.Repeat("x", 1100) + `"}`},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	const maxBytes = 4096
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 100 + abs(status%500)
		h := http.Header{}
		p, e := decodeResponse(opGet, status, h, body, maxBytes, callIDs{correlation: "c", request: "r"})
		if e != nil {
			_ = e.Error()
			_ = e.Field()
			if e.Status != status || e.CorrelationID != "c" || e.RequestID != "r" {
				t.Fatalf("error %+v does not carry the status and ids", e)
			}
			if utf8.RuneCountInString(e.Description) > maxDescriptionRunes {
				t.Fatalf("description of %d runes", utf8.RuneCountInString(e.Description))
			}
		}
		if !isSuccess(status) {
			if e == nil || e.Kind == KindBadResponse {
				t.Fatalf("status %d: error %v", status, e)
			}
			return
		}
		if e != nil {
			if e.Kind != KindBadResponse || e.Err == nil {
				t.Fatalf("2xx gave %v, want a bad response with a cause", e)
			}
			return
		}
		// A decoded profile re-encodes to JSON that decodes to the same profile.
		out, err := p.MarshalJSON()
		if err != nil || !json.Valid(out) {
			t.Fatalf("re-encode: %v: %s", err, out)
		}
		var q Profile
		if err := q.UnmarshalJSON(out); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if q.Email != p.Email || q.Telephone != p.Telephone || q.Website != p.Website || len(q.extra) != len(p.extra) {
			t.Fatalf("round trip changed %+v into %+v", p, q)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestDecodeResponseOversize(t *testing.T) {
	_, e := decodeResponse(opGet, 200, http.Header{}, []byte(`{"email":"abc"}`), 5, callIDs{})
	if e == nil || e.Kind != KindBadResponse || e.Err == nil || !strings.Contains(e.Err.Error(), "larger than 5 bytes") {
		t.Fatalf("got %v", e)
	}
	_, e = decodeResponse(opGet, 200, http.Header{}, []byte("<html>"), 100, callIDs{})
	if !errors.Is(e, errHTMLBody) {
		t.Fatalf("got %v", e)
	}
}

// eachMember walks a valid object as json.Decoder does: the same names, unquoted the same way,
// with the same values, in the same order.
func FuzzEachMember(f *testing.F) {
	for _, seed := range []string{sampleProfile, `{}`, ` { "a" : [1, {"b":"}"}] , "c\"d":"e\\f", "x":-1.5e3,"y":true,"z":null } `,
		`{"é":"\u00e9","k":"\ud800"}`, `[1]`, `"s"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		type m struct{ name, raw string }
		var got, want []m
		err := eachMember(b, func(name string, raw []byte) error {
			got = append(got, m{name, string(raw)})
			return nil
		})
		dec := json.NewDecoder(bytes.NewReader(b))
		if tok, _ := dec.Token(); tok != json.Delim('{') {
			if err == nil {
				t.Fatalf("%q is no object, yet walked", b)
			}
			return
		}
		for dec.More() {
			tok, _ := dec.Token()
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				t.Fatal("decoder failed on valid JSON")
			}
			want = append(want, m{tok.(string), string(raw)})
		}
		if err != nil || len(got) != len(want) {
			t.Fatalf("%q: got %v (%v), want %v", b, got, err, want)
		}
		for i := range got {
			if got[i].name != want[i].name || got[i].raw != want[i].raw {
				t.Fatalf("%q member %d: got %q, want %q", b, i, got[i], want[i])
			}
		}
	})
}
