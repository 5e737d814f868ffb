package notify_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/notify"
)

// The Standard Webhooks test vector, from the specification's reference libraries
// (github.com/standard-webhooks/standard-webhooks, libraries/go/webhook_test.go, TestWebhookSign;
// the same values in the PHP, Python and JavaScript libraries' tests): a receiver's library
// accepts what this package signs only if this comes out exactly.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vector(t *testing.T) notify.Secret {
	t.Helper()
	s, err := notify.ParseSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignatureMatchesTheSpecificationsTestVector(t *testing.T) {
	if got := vector(t).Sign(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorPayload)); got != vectorSignature {
		t.Errorf("signature %s, want %s", got, vectorSignature)
	}
}

func vectorHeader(signature string) http.Header {
	return http.Header{"Webhook-Id": {vectorID}, "Webhook-Timestamp": {fmt.Sprint(vectorTimestamp)}, "Webhook-Signature": {signature}}
}

// Verify accepts and refuses what the reference library's own tests do (webhook_test.go,
// TestWebhook): missing headers, a wrong signature, a timestamp outside five minutes either way;
// one good signature among several passes.
func TestVerifyAsTheReferenceLibraryDoes(t *testing.T) {
	s := vector(t)
	at := time.Unix(vectorTimestamp, 0)
	body := []byte(vectorPayload)
	other := notify.NewSecret()
	for name, tc := range map[string]struct {
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		"the vector":                     {vectorHeader(vectorSignature), body, at, nil},
		"within five minutes after":      {vectorHeader(vectorSignature), body, at.Add(notify.Tolerance), nil},
		"more than five minutes after":   {vectorHeader(vectorSignature), body, at.Add(notify.Tolerance + time.Second), notify.ErrTimestamp},
		"more than five minutes before":  {vectorHeader(vectorSignature), body, at.Add(-notify.Tolerance - time.Second), notify.ErrTimestamp},
		"a body changed by one space":    {vectorHeader(vectorSignature), []byte(`{"test":2432232314}`), at, notify.ErrSignature},
		"the reference's bad signature":  {vectorHeader("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="), body, at, notify.ErrSignature},
		"one good signature among many":  {vectorHeader("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + vectorSignature), body, at, nil},
		"the right value, wrong scheme":  {vectorHeader("v1a," + strings.TrimPrefix(vectorSignature, "v1,")), body, at, notify.ErrSignature},
		"another secret's signature":     {vectorHeader(other.Sign(vectorID, at, body)), body, at, notify.ErrSignature},
		"no id":                          {http.Header{"Webhook-Timestamp": {fmt.Sprint(vectorTimestamp)}, "Webhook-Signature": {vectorSignature}}, body, at, notify.ErrMissingHeaders},
		"no timestamp":                   {http.Header{"Webhook-Id": {vectorID}, "Webhook-Signature": {vectorSignature}}, body, at, notify.ErrMissingHeaders},
		"no signature":                   {http.Header{"Webhook-Id": {vectorID}, "Webhook-Timestamp": {fmt.Sprint(vectorTimestamp)}}, body, at, notify.ErrMissingHeaders},
		"a timestamp that is not a time": {http.Header{"Webhook-Id": {vectorID}, "Webhook-Timestamp": {"1614265330.5"}, "Webhook-Signature": {vectorSignature}}, body, at, notify.ErrTimestamp},
	} {
		if err := s.Verify(tc.header, tc.body, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// The setting's secret: the specification's form only, and its problems never repeat it.
func TestParseSecret(t *testing.T) {
	key := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n)) }
	for _, ok := range []string{vectorSecret, "whsec_" + key(32), "whsec_" + key(64), " whsec_" + key(24) + "\n"} {
		if _, err := notify.ParseSecret(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", key(32), "whsec_" + key(16), "whsec_" + key(65), "whsec_not base64!", "WHSEC_" + key(32)} {
		_, err := notify.ParseSecret(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if rest := strings.TrimPrefix(strings.TrimSpace(bad), "whsec_"); len(rest) > 4 && strings.Contains(err.Error(), rest) {
			t.Errorf("the problem repeats the value: %v", err)
		}
	}
}

// A secret printed by mistake, in any verb or in a log line, shows nothing of the key.
func TestSecretNeverPrintsItself(t *testing.T) {
	s := vector(t)
	key := strings.TrimPrefix(vectorSecret, "whsec_")
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "secret", s, "options", struct{ S notify.Secret }{s})
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", s, "options", struct{ S notify.Secret }{s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), fmt.Sprintf("%+v %#v", struct{ S notify.Secret }{s}, struct{ S notify.Secret }{s}), logs.String()} {
		if strings.Contains(out, key) || strings.Contains(out, key[:8]) {
			t.Errorf("the key shows: %s", out)
		}
	}
	if s.Text() != vectorSecret {
		t.Errorf("Text = %q", s.Text())
	}
}
