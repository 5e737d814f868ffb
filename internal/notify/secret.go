package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks specification (github.com/standard-webhooks/standard-webhooks,
// spec/standard-webhooks.md, "Signature scheme" and "Webhook headers"): the headers webhook-id,
// webhook-timestamp (integer Unix seconds) and webhook-signature ("v1," and the base64
// HMAC-SHA256 of "{id}.{timestamp}.{body}", several space-separated during a key rotation);
// the secret is "whsec_" and base64 of 24 to 64 random bytes.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"

	secretPrefix    = "whsec_"
	minSecretBytes  = 24
	maxSecretBytes  = 64
	signatureScheme = "v1"

	// Tolerance is how far a webhook-timestamp may be from the receiver's clock, either way,
	// before Verify refuses it as a replay: the reference libraries' five minutes.
	Tolerance = 5 * time.Minute
)

// Secret is the key that signs Standard Webhooks messages. It never prints itself.
type Secret struct{ key []byte }

// ParseSecret reads a secret written as the specification serialises it: "whsec_" and the
// base64 of 24 to 64 bytes. Its errors never repeat the value.
func ParseSecret(s string) (Secret, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), secretPrefix)
	if !ok {
		return Secret{}, errors.New(`must begin with "whsec_" (the Standard Webhooks form: whsec_ and base64 of 24 to 64 random bytes)`)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return Secret{}, errors.New("is not whsec_ and base64: make one with: echo whsec_$(openssl rand -base64 32)")
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return Secret{}, fmt.Errorf("holds %d bytes; the Standard Webhooks specification asks for 24 to 64: make one with: echo whsec_$(openssl rand -base64 32)", len(key))
	}
	return Secret{key: key}, nil
}

// NewSecret makes a secret of 32 random bytes (for development and tests).
func NewSecret() Secret {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	return Secret{key: key}
}

// IsZero reports that no secret was given.
func (s Secret) IsZero() bool { return len(s.key) == 0 }

// String never shows the key.
func (s Secret) String() string {
	if s.IsZero() {
		return "no secret"
	}
	return "whsec_… (redacted)"
}

// GoString never shows the key either (%#v).
func (s Secret) GoString() string { return s.String() }

// Text is the secret as the specification writes it, for the one place that must hand it to
// a receiver (the development stand-in). Never log it.
func (s Secret) Text() string { return secretPrefix + base64.StdEncoding.EncodeToString(s.key) }

// Sign is the webhook-signature of body sent with id at timestamp.
func (s Secret) Sign(id string, timestamp time.Time, body []byte) string {
	return signatureScheme + "," + base64.StdEncoding.EncodeToString(s.mac(id, strconv.FormatInt(timestamp.Unix(), 10), body))
}

func (s Secret) mac(id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrMissingHeaders = errors.New("webhook-id, webhook-timestamp or webhook-signature missing")
	ErrTimestamp      = errors.New("webhook-timestamp is not a Unix time within five minutes of now")
	ErrSignature      = errors.New("no v1 signature in webhook-signature matches")
)

// Verify checks a Standard Webhooks message as a receiver does: the three headers present, the
// timestamp within Tolerance of now, and one of the v1 signatures made with the secret over
// exactly these bytes (compared in constant time).
func (s Secret) Verify(h http.Header, body []byte, now time.Time) error {
	if s.IsZero() {
		return ErrSignature // nothing verifies without a key
	}
	id, timestamp, signatures := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || timestamp == "" || signatures == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	want := s.mac(id, timestamp, body)
	for _, sig := range strings.Fields(signatures) {
		scheme, value, ok := strings.Cut(sig, ",")
		if !ok || scheme != signatureScheme {
			continue // another scheme (v1a) or version: not ours to check
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
