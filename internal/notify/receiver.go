package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Format is what a receiver expects.
type Format string

const (
	// Standard is JSON signed as the Standard Webhooks specification says.
	Standard Format = "standard"
	// Teams is a message with an Adaptive Card, for a Microsoft Teams workflow ("Post to a
	// channel when a webhook request is received").
	Teams Format = "teams"
	// Slack is a Slack incoming webhook message (text and blocks).
	Slack Format = "slack"
)

// Receiver is one webhook the operator configured. Its URL is a secret (Slack's and Teams'
// carry the token that lets anyone post): String never shows it, and neither do logs, errors,
// metrics or pages.
type Receiver struct {
	Format Format
	URL    *url.URL
	Index  int // 1-based position in the setting, for people
}

// String names the receiver without its URL: "receiver 2 (teams)".
func (r Receiver) String() string { return fmt.Sprintf("receiver %d (%s)", r.Index, r.Format) }

// Key identifies the receiver in the outbox: the format and a digest of the URL, so that a
// reordered setting still sends each pending delivery where it was meant to go, and the
// outbox holds no URL. A receiver whose URL changed (a regenerated Slack webhook) is another
// receiver.
func (r Receiver) Key() string {
	sum := sha256.Sum256([]byte(string(r.Format) + " " + r.URL.String()))
	return string(r.Format) + "-" + hex.EncodeToString(sum[:8])
}

// Keys are the receivers' keys, each once: the receivers the history store queues a delivery
// for beside each entry that tells a change.
func Keys(receivers []Receiver) []string {
	var keys []string
	seen := map[string]bool{}
	for _, r := range receivers {
		if k := r.Key(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// ParseReceivers reads the setting: URLs separated by spaces, each an absolute https URL (or
// http to a loopback address, for tests and development), prefixed with "teams:" or "slack:"
// for those formats. Each problem names the receiver by its position, never by its URL.
func ParseReceivers(setting string) ([]Receiver, []string) {
	var receivers []Receiver
	var problems []string
	for i, field := range strings.Fields(setting) {
		r := Receiver{Format: Standard, Index: i + 1}
		raw := field
		if rest, ok := strings.CutPrefix(field, "teams:"); ok {
			r.Format, raw = Teams, rest
		} else if rest, ok := strings.CutPrefix(field, "slack:"); ok {
			r.Format, raw = Slack, rest
		}
		u, err := url.Parse(raw)
		switch {
		case err == nil && u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "":
			problems = append(problems, fmt.Sprintf("%s must be an https URL (prefix teams: or slack: for those formats)", r))
			continue
		case err != nil || u.Host == "" || u.Opaque != "" || u.User != nil || u.Fragment != "":
			problems = append(problems, fmt.Sprintf("%s is not an absolute URL without credentials or fragment (prefix teams: or slack: for those formats)", r))
			continue
		case u.Scheme == "http" && !loopback(u.Hostname()):
			problems = append(problems, fmt.Sprintf("%s must use https (http only to a loopback address)", r))
			continue
		}
		r.URL = u
		receivers = append(receivers, r)
	}
	return receivers, problems
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact removes every form of the receiver's URL from s (an error's text, a response body
// quoted in it), leaving the receiver's name: the URL carries the receiver's token.
func (r Receiver) redact(s string) string {
	if r.URL == nil {
		return s
	}
	for _, secret := range []string{r.URL.String(), r.URL.EscapedPath() + "?" + r.URL.RawQuery, r.URL.RawQuery, r.URL.EscapedPath(), r.URL.Path} {
		if len(secret) > 1 && secret != "/" && secret != "?" {
			s = strings.ReplaceAll(s, secret, "…")
		}
	}
	return s
}
