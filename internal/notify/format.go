package notify

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"pcsupport/internal/support"
)

// EventType is the Standard Webhooks event type of every notification.
const EventType = "support_profile.changed"

// maxValue is how many characters of a value a Teams or Slack message shows: Slack refuses a
// section field over 2000 characters, and nobody reads a longer contact detail in a chat.
const maxValue = 500

// standardPayload is the Standard Webhooks payload ("Payload structure": type, timestamp of
// the event, data).
type standardPayload struct {
	Type      string       `json:"type"`
	Timestamp time.Time    `json:"timestamp"`
	Data      standardData `json:"data"`
}

type standardData struct {
	EntryID  int64           `json:"entry_id"`
	TenantID string          `json:"tenant_id"`
	Company  string          `json:"company"` // "" when not known
	Kind     string          `json:"kind"`    // saved, outside
	By       *Person         `json:"by"`      // null unless saved through the app
	At       time.Time       `json:"at"`
	Changes  []Change        `json:"changes"`
	Before   support.Contact `json:"before"`
	After    support.Contact `json:"after"`
	Link     string          `json:"link,omitempty"`
}

// StandardBody is n as a Standard Webhooks message: the JSON payload and the headers that sign
// it, webhook-id (n.ID, the same on every attempt), webhook-timestamp (sentAt, the attempt's
// time) and webhook-signature.
func StandardBody(n Notification, secret Secret, sentAt time.Time) ([]byte, http.Header, error) {
	if n.Kind == KindWatchStopped {
		return signed(n, secret, sentAt, watchStoppedPayload(n))
	}
	p := standardPayload{Type: EventType, Timestamp: n.At.UTC(), Data: standardData{
		EntryID: n.EntryID, TenantID: n.TenantID, Company: n.Company, Kind: n.Kind, At: n.At.UTC(),
		Changes: n.Changes(), Before: n.Before, After: n.After, Link: n.Link,
	}}
	if p.Data.Changes == nil {
		p.Data.Changes = []Change{}
	}
	if n.Kind == KindSaved {
		by := n.By
		p.Data.By = &by
	}
	return signed(n, secret, sentAt, p)
}

// signed is the payload p of n as JSON with the Standard Webhooks headers that sign it.
func signed(n Notification, secret Secret, sentAt time.Time, p any) ([]byte, http.Header, error) {
	body, err := marshal(p)
	if err != nil {
		return nil, nil, err
	}
	h := jsonHeader()
	h.Set(HeaderID, n.ID)
	h.Set(HeaderTimestamp, formatUnix(sentAt))
	h.Set(HeaderSignature, secret.Sign(n.ID, sentAt, body))
	return body, h, nil
}

// TeamsBody is n as a message for a Microsoft Teams workflow started by "When a Teams webhook
// request is received" (the template "Post to a channel when a webhook request is received"):
// a message whose attachments are Adaptive Cards, the shape Microsoft documents in "Send
// Adaptive Cards using an Incoming Webhook" (learn.microsoft.com, microsoftteams/platform,
// webhooks-and-connectors/how-to/connectors-using): "type" must be "message", "contentType"
// the Adaptive Card type, "content" the card. Workflows post Adaptive Cards only.
//
// Values that come from Partner Center (the company, the details) are TextRuns of a
// RichTextBlock, which Adaptive Cards never read as Markdown, so a value cannot turn into a
// link that says something else.
func TeamsBody(n Notification) ([]byte, http.Header, error) {
	if n.Kind == KindWatchStopped {
		return teamsMessage(n, teamsWatchStopped(n))
	}
	body := []any{
		richText(textRun(n.title(), "weight", "Bolder", "size", "Medium")),
		richText(textRun(n.who()+" · "+n.when(), "isSubtle", true)),
	}
	for _, c := range n.Changes() {
		body = append(body, richText(
			textRun(fieldLabel(c.Field)+": ", "weight", "Bolder"),
			textRun(cut(shown(c.Before))),
			textRun(" → "),
			textRun(cut(shown(c.After))),
		))
	}
	if n.Company != "" {
		body = append(body, richText(textRun("Partner tenant "+n.TenantID, "isSubtle", true, "size", "Small")))
	}
	return teamsMessage(n, body)
}

// teamsMessage is the Teams message of n whose card has body.
func teamsMessage(n Notification, body []any) ([]byte, http.Header, error) {
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if n.Link != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": n.linkTitle(), "url": n.Link}}
	}
	msg := map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
	b, err := marshal(msg)
	return b, jsonHeader(), err
}

func richText(inlines ...any) map[string]any {
	return map[string]any{"type": "RichTextBlock", "inlines": inlines}
}

// textRun is a TextRun with text and properties given as name, value pairs.
func textRun(text string, props ...any) map[string]any {
	run := map[string]any{"type": "TextRun", "text": text}
	for i := 0; i+1 < len(props); i += 2 {
		run[props[i].(string)] = props[i+1]
	}
	return run
}

// SlackBody is n as a Slack incoming webhook message (docs.slack.dev, "Sending messages using
// incoming webhooks"): "text" is the fallback shown in notifications, "blocks" the message
// (Block Kit sections and a context line, in mrkdwn). Slack reads &, < and > as control
// characters in mrkdwn ("Formatting text for app surfaces", Escaping text): every value is
// escaped, so a value can neither mention a channel nor become a link.
func SlackBody(n Notification) ([]byte, http.Header, error) {
	if n.Kind == KindWatchStopped {
		return slackWatchStopped(n)
	}
	changes := n.Changes()
	var names []string
	var fields []any
	for _, c := range changes {
		names = append(names, strings.ToLower(fieldLabel(c.Field)))
		fields = append(fields, mrkdwn("*"+fieldLabel(c.Field)+"*\n"+slackEscape(cut(shown(c.Before)))+" → "+slackEscape(cut(shown(c.After)))))
	}
	fallback := n.title()
	if len(names) > 0 {
		fallback += " (" + strings.Join(names, ", ") + ")"
	}
	fallback += ". " + n.who() + "."
	context := n.who() + " · " + n.when()
	if n.Company != "" {
		context += " · partner tenant " + n.TenantID
	}
	blocks := []any{
		map[string]any{"type": "section", "text": mrkdwn("*" + slackEscape(n.company()) + "*: support contact changed")},
	}
	if len(fields) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []any{mrkdwn(slackEscape(context))}})
	return slackMessage(n, fallback, blocks)
}

// slackMessage is the Slack message of n: its fallback text and blocks, then the link.
func slackMessage(n Notification, fallback string, blocks []any) ([]byte, http.Header, error) {
	if n.Link != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": mrkdwn("<" + slackLinkURL(n.Link) + "|" + n.linkTitle() + ">")})
	}
	b, err := marshal(map[string]any{"text": slackEscape(fallback), "blocks": blocks})
	return b, jsonHeader(), err
}

func mrkdwn(text string) map[string]any { return map[string]any{"type": "mrkdwn", "text": text} }

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackEscape escapes the three characters Slack reads as control characters, and nothing else
// (Slack shows other HTML entities as typed).
func slackEscape(s string) string { return slackEscaper.Replace(s) }

// slackLinkURL is a URL fit for <url|text>: its control characters escaped, and '|', which
// would end the URL, percent-encoded.
func slackLinkURL(u string) string {
	return slackEscape(strings.ReplaceAll(u, "|", url.QueryEscape("|")))
}

// cut shortens a value to maxValue characters.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxValue {
		return s
	}
	return string([]rune(s)[:maxValue]) + "…"
}

// marshal is compact JSON without HTML escaping: receivers read "<" as "<", and people reading
// a message in the dev receiver read it more easily.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}}
}

func formatUnix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
