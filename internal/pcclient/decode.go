package pcclient

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const maxDescriptionRunes = 1024

var (
	utf8BOM = []byte{0xEF, 0xBB, 0xBF}

	// tryAgainRE reads the wait out of the 429 message when the Retry-After header is missing.
	tryAgainRE = regexp.MustCompile(`(?i)try again in (\d{1,9}) ?seconds?`)

	errEmptyBody = errors.New("empty body")
	errHTMLBody  = errors.New("body is HTML, not JSON")
)

// decodeResponse turns one response into a Profile (2xx) or an *Error.
func decodeResponse(op string, status int, h http.Header, body []byte, maxBytes int64, sent callIDs) (Profile, *Error) {
	var p Profile
	e := readResponse(op, status, h, body, maxBytes, sent, func(b []byte) (err error) {
		p, err = decodeProfile(b)
		return err
	})
	if e != nil {
		return Profile{}, e
	}
	return p, nil
}

// readResponse reads one response: a 2xx body is given to decode, anything else becomes an
// *Error, as does a body decode refuses. maxBytes is the size limit; body holds up to one byte
// more, so a body over the limit is seen, not silently cut.
func readResponse(op string, status int, h http.Header, body []byte, maxBytes int64, sent callIDs, decode func([]byte) error) *Error {
	e := &Error{
		Op:            op,
		Status:        status,
		CorrelationID: cmp.Or(strings.TrimSpace(h.Get("MS-CorrelationId")), sent.correlation),
		RequestID:     cmp.Or(strings.TrimSpace(h.Get("MS-RequestId")), sent.request),
	}
	oversize := int64(len(body)) > maxBytes
	if isSuccess(status) {
		e.Kind = KindBadResponse
		if oversize {
			e.Err = fmt.Errorf("body larger than %d bytes", maxBytes)
			return e
		}
		if err := decode(body); err != nil {
			e.Err = err
			return e
		}
		return nil
	}

	var message string
	if oversize {
		// A cut body would not parse anyway; say why it was not read.
		e.Err = fmt.Errorf("error body larger than %d bytes", maxBytes)
	} else {
		e.Code, e.Description, message, e.Err = parseErrorBody(body)
	}
	if e.Description == "" {
		e.Description = message
	}
	e.RetryAfter, e.retryAfterSet = parseRetryAfter(h.Get("Retry-After"), cmp.Or(message, e.Description), time.Now())
	e.Kind = classify(status, e.Code)
	return e
}

// decodeProfile decodes a success body, naming the common ways a body is not a profile.
func decodeProfile(body []byte) (Profile, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	if err := bodyShape(body); err != nil {
		return Profile{}, err
	}
	var p Profile
	if err := p.decode(body); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// bodyShape reports an empty or HTML body, the two non-JSON answers gateways give.
func bodyShape(body []byte) error {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return errEmptyBody
	case trimmed[0] == '<':
		return errHTMLBody
	}
	return nil
}

// errorBody holds both error shapes: {"code","description",...} and the 429 one,
// {"statusCode","message"}. Members are raw because their types vary (code: string or number).
type errorBody struct {
	Code        json.RawMessage `json:"code"`
	Description json.RawMessage `json:"description"`
	Message     json.RawMessage `json:"message"`
}

// parseErrorBody extracts what it can from an error body. err says why nothing could be read;
// it is nil for an empty body, which is normal on some statuses.
func parseErrorBody(body []byte) (code, description, message string, err error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	if err := bodyShape(body); err != nil {
		if errors.Is(err, errEmptyBody) {
			return "", "", "", nil
		}
		return "", "", "", fmt.Errorf("error body: %w", err)
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		return "", "", "", fmt.Errorf("error body: %w", err)
	}
	code = jsonScalar(eb.Code, true)
	description = cleanText(jsonScalar(eb.Description, false))
	message = cleanText(jsonScalar(eb.Message, false))
	return code, description, message, nil
}

// cleanText makes server text safe to show and log on one line: control characters become
// spaces, and at most maxDescriptionRunes runes are kept so a huge text cannot flood a page.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(truncateRunes(s, maxDescriptionRunes))
}

// jsonScalar returns a JSON string's value, or a number's literal when numbers are allowed;
// anything else gives "".
func jsonScalar(raw json.RawMessage, numbers bool) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	if numbers {
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// truncateRunes keeps at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date, falling back to the 429 message
// ("Try again in 57 seconds.").
// ok is false when there is no usable hint.
func parseRetryAfter(header, message string, now time.Time) (d time.Duration, ok bool) {
	// Beyond this a wait is meaningless, and time.Duration would overflow.
	const maxSeconds = 1 << 32
	if v := strings.TrimSpace(header); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			return time.Duration(min(secs, maxSeconds)) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			d := min(max(t.Sub(now), 0), maxSeconds*time.Second)
			// The date only has whole seconds: round up rather than retry early.
			if r := d % time.Second; r != 0 {
				d += time.Second - r
			}
			return d, true
		}
	}
	if m := tryAgainRE.FindStringSubmatch(message); m != nil {
		secs, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil {
			return time.Duration(secs) * time.Second, true
		}
	}
	return 0, false
}
