package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/notify"
	"pcsupport/internal/support"
)

const link = "https://tools.example.com/partner/support/history?before=43"

// saved is a change saved through the app, with values that need escaping in every format.
func saved() notify.Notification {
	at := time.Date(2026, 3, 1, 14, 5, 9, 123e6, time.UTC)
	return notify.Notification{
		ID: notify.NotificationID(42, at), EntryID: 42, TenantID: "11111111-2222-3333-4444-555555555555",
		Company: "Contoso <Fabrikam> & Co", Kind: notify.KindSaved,
		By:     notify.Person{ObjectID: "oid-7", Name: "Adèle Vance", Username: "adele@contoso.example"},
		At:     at,
		Before: support.Contact{Email: "old@contoso.example", Telephone: "+33 1 23 45 67 89", Website: ""},
		After:  support.Contact{Email: "<!channel> new@contoso.example", Telephone: "+33 1 23 45 67 89", Website: "[Microsoft](https://evil.example) & *more*"},
		Link:   link,
	}
}

func outside() notify.Notification {
	n := saved()
	n.Kind, n.By, n.Company = notify.KindOutside, notify.Person{}, ""
	return n
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

// --- Standard Webhooks ---------------------------------------------------------------------

// The specification's example payload ("Payload structure"), which its rules must accept.
const specPayload = `{"type":"example.event","timestamp":"2022-11-03T20:26:10.344522Z","data":{"foo":"bar","fizzbuzz":2}}`

// checkStandardPayload holds a payload to the specification's "Payload structure": a
// full-stop delimited type of [a-zA-Z0-9_] identifiers, the event's timestamp, the data.
func checkStandardPayload(p map[string]any) error {
	typ, _ := p["type"].(string)
	if !regexp.MustCompile(`^[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)+$`).MatchString(typ) {
		return fmt.Errorf("type %q is not a full-stop delimited event type", p["type"])
	}
	ts, _ := p["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		return fmt.Errorf("timestamp %q: %v", p["timestamp"], err)
	}
	if _, ok := p["data"].(map[string]any); !ok {
		return fmt.Errorf("data is %T", p["data"])
	}
	return nil
}

func TestStandardMessage(t *testing.T) {
	if err := checkStandardPayload(decode(t, []byte(specPayload))); err != nil {
		t.Fatalf("the specification's own example fails the check: %v", err)
	}
	secret := notify.NewSecret()
	sentAt := time.Date(2026, 3, 1, 14, 7, 0, 0, time.UTC)
	body, h, err := notify.StandardBody(saved(), secret, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	p := decode(t, body)
	if err := checkStandardPayload(p); err != nil {
		t.Error(err)
	}
	// The headers, and a signature computed here from the specification's words rather than by
	// the package: HMAC-SHA256 over "{id}.{timestamp}.{body}", base64, after "v1,".
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id != "msg_42_1772373909123" || strings.Contains(id, ".") {
		t.Errorf("webhook-id %q: want the notification's id, without '.'", id)
	}
	if ts != strconv.FormatInt(sentAt.Unix(), 10) {
		t.Errorf("webhook-timestamp %q: want the attempt's time, %d", ts, sentAt.Unix())
	}
	mac := hmac.New(sha256.New, keyOf(t, secret))
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); h.Get("webhook-signature") != want {
		t.Errorf("webhook-signature %q, want %q", h.Get("webhook-signature"), want)
	}
	if err := secret.Verify(h, body, sentAt.Add(time.Minute)); err != nil {
		t.Errorf("the package's own Verify refuses it: %v", err)
	}
	if h.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", h.Get("Content-Type"))
	}
	want := `{"type":"support_profile.changed","timestamp":"2026-03-01T14:05:09.123Z","data":{` +
		`"entry_id":42,"tenant_id":"11111111-2222-3333-4444-555555555555","company":"Contoso <Fabrikam> & Co","kind":"saved",` +
		`"by":{"object_id":"oid-7","name":"Adèle Vance","username":"adele@contoso.example"},"at":"2026-03-01T14:05:09.123Z",` +
		`"changes":[{"field":"email","before":"old@contoso.example","after":"<!channel> new@contoso.example"},` +
		`{"field":"website","before":"","after":"[Microsoft](https://evil.example) & *more*"}],` +
		`"before":{"email":"old@contoso.example","telephone":"+33 1 23 45 67 89","website":""},` +
		`"after":{"email":"<!channel> new@contoso.example","telephone":"+33 1 23 45 67 89","website":"[Microsoft](https://evil.example) & *more*"},` +
		`"link":"` + link + `"}}`
	if string(body) != want {
		t.Errorf("payload\n got %s\nwant %s", body, want)
	}

	// A change noticed outside the app names nobody.
	body, _, _ = notify.StandardBody(outside(), secret, sentAt)
	data := decode(t, body)["data"].(map[string]any)
	if data["by"] != nil || data["kind"] != "outside" || data["company"] != "" {
		t.Errorf("outside: by %v, kind %v, company %v", data["by"], data["kind"], data["company"])
	}
}

// keyOf reads a secret's key back from its text, as a receiver configured with it would.
func keyOf(t *testing.T, s notify.Secret) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.Text(), "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// --- Microsoft Teams ------------------------------------------------------------------------

// Microsoft's example of an Adaptive Card sent to a Teams webhook ("Send Adaptive Cards using an
// Incoming Webhook", learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/
// connectors-using; Workflows' "When a Teams webhook request is received" takes the same body).
const teamsDocumented = `{
   "type":"message",
   "attachments":[
      {
         "contentType":"application/vnd.microsoft.card.adaptive",
         "contentUrl":null,
         "content":{
            "$schema":"http://adaptivecards.io/schemas/adaptive-card.json",
            "type":"AdaptiveCard",
            "version":"1.2",
            "body":[
                {
                "type": "TextBlock",
                "text": "For Samples and Templates, see [https://adaptivecards.io/samples](https://adaptivecards.io/samples)"
                }
            ]
         }
      }
   ]
}`

// checkTeams holds a message to what that page says: "type" must be "message"; "attachments"
// holds the cards; "contentType" the Adaptive Card type; "content" the card. Within the card:
// elements of Adaptive Cards up to 1.4 (what Teams renders), and of the actions only those the
// page lists as supported (Action.OpenUrl, Action.ShowCard, Action.ToggleVisibility).
func checkTeams(m map[string]any) error {
	if m["type"] != "message" {
		return fmt.Errorf(`type %v, want "message"`, m["type"])
	}
	attachments, _ := m["attachments"].([]any)
	if len(attachments) == 0 {
		return fmt.Errorf("no attachments")
	}
	for _, a := range attachments {
		a, _ := a.(map[string]any)
		if a["contentType"] != "application/vnd.microsoft.card.adaptive" {
			return fmt.Errorf("contentType %v", a["contentType"])
		}
		if u, ok := a["contentUrl"]; !ok || u != nil {
			return fmt.Errorf("contentUrl %v (present: %v), want null", u, ok)
		}
		card, _ := a["content"].(map[string]any)
		if card["type"] != "AdaptiveCard" || card["$schema"] != "http://adaptivecards.io/schemas/adaptive-card.json" {
			return fmt.Errorf("card type %v, schema %v", card["type"], card["$schema"])
		}
		if v, _ := card["version"].(string); !slices.Contains([]string{"1.0", "1.1", "1.2", "1.3", "1.4"}, v) {
			return fmt.Errorf("card version %v", card["version"])
		}
		body, _ := card["body"].([]any)
		if len(body) == 0 {
			return fmt.Errorf("empty card")
		}
		for _, e := range body {
			e, _ := e.(map[string]any)
			switch e["type"] {
			case "TextBlock":
				if s, _ := e["text"].(string); s == "" {
					return fmt.Errorf("TextBlock without text")
				}
			case "RichTextBlock":
				inlines, _ := e["inlines"].([]any)
				if len(inlines) == 0 {
					return fmt.Errorf("RichTextBlock without inlines")
				}
				for _, in := range inlines {
					in, _ := in.(map[string]any)
					if s, _ := in["text"].(string); in["type"] != "TextRun" || s == "" {
						return fmt.Errorf("inline %v", in)
					}
				}
			case "FactSet", "Container", "ColumnSet", "Image":
			default:
				return fmt.Errorf("element %v", e["type"])
			}
		}
		actions, _ := card["actions"].([]any)
		for _, act := range actions {
			act, _ := act.(map[string]any)
			switch act["type"] {
			case "Action.OpenUrl":
				if u, _ := act["url"].(string); !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
					return fmt.Errorf("Action.OpenUrl to %v", act["url"])
				}
			case "Action.ShowCard", "Action.ToggleVisibility":
			default:
				return fmt.Errorf("action %v, which Teams webhooks do not support", act["type"])
			}
		}
	}
	return nil
}

// teamsText is every text of the card, one element a line, the TextRuns of a block joined.
func teamsText(m map[string]any) (lines []string, markdown []string) {
	card := m["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)
	for _, e := range card["body"].([]any) {
		e := e.(map[string]any)
		switch e["type"] {
		case "TextBlock":
			lines = append(lines, e["text"].(string))
			markdown = append(markdown, e["text"].(string))
		case "RichTextBlock":
			var line string
			for _, in := range e["inlines"].([]any) {
				line += in.(map[string]any)["text"].(string)
			}
			lines = append(lines, line)
		}
	}
	return lines, markdown
}

func TestTeamsMessage(t *testing.T) {
	if err := checkTeams(decode(t, []byte(teamsDocumented))); err != nil {
		t.Fatalf("Microsoft's own example fails the check: %v", err)
	}
	broken := decode(t, []byte(teamsDocumented))
	delete(broken["attachments"].([]any)[0].(map[string]any), "contentUrl")
	if checkTeams(broken) == nil {
		t.Fatal("the check passes a message without contentUrl")
	}

	body, h, err := notify.TeamsBody(saved())
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, body)
	if err := checkTeams(m); err != nil {
		t.Errorf("%v\n%s", err, body)
	}
	if h.Get("Content-Type") != "application/json" || h.Get("webhook-signature") != "" {
		t.Errorf("headers %v", h)
	}
	lines, markdown := teamsText(m)
	want := []string{
		"Contoso <Fabrikam> & Co: support contact changed",
		"Saved in this app by Adèle Vance (adele@contoso.example) · 2026-03-01 14:05:09 UTC",
		"Email: old@contoso.example → <!channel> new@contoso.example",
		"Website: (empty) → [Microsoft](https://evil.example) & *more*",
		"Partner tenant 11111111-2222-3333-4444-555555555555",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("card text\n got %q\nwant %q", lines, want)
	}
	// Values from Partner Center never reach a TextBlock, where Teams would read Markdown.
	for _, md := range markdown {
		if strings.Contains(md, "evil.example") || strings.Contains(md, "Fabrikam") {
			t.Errorf("a value in Markdown: %q", md)
		}
	}
	action := m["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)["actions"].([]any)[0].(map[string]any)
	if action["type"] != "Action.OpenUrl" || action["url"] != link || action["title"] != "Open in the change history" {
		t.Errorf("action %v", action)
	}

	body, _, _ = notify.TeamsBody(outside())
	lines, _ = teamsText(decode(t, body))
	if lines[0] != "11111111-2222-3333-4444-555555555555: support contact changed" || !strings.HasPrefix(lines[1], "Changed outside this app") {
		t.Errorf("outside, no company: %q", lines)
	}
}

// --- Slack ----------------------------------------------------------------------------------

// Slack's example incoming webhook message ("Sending messages using incoming webhooks",
// docs.slack.dev/messaging/sending-messages-using-incoming-webhooks), its image left out.
const slackDocumented = `{
	"text": "Danny Torrence left a 1 star review for your property.",
	"blocks": [
		{"type": "section", "text": {"type": "mrkdwn", "text": "Danny Torrence left the following review for your property:"}},
		{"type": "section", "block_id": "section567", "text": {"type": "mrkdwn", "text": "<https://example.com|Overlook Hotel> \n :star: \n Doors had too many axe holes, guest in room 237 was far too rowdy, whole place felt stuck in the 1920s."}},
		{"type": "section", "block_id": "section789", "fields": [{"type": "mrkdwn", "text": "*Average Rating*\n1.0"}]}
	]
}`

// checkSlack holds a message to Block Kit's limits (a section's text 3000 characters, its
// fields 10 of 2000, a context's elements 10, 50 blocks) and to Slack's escaping rule: in mrkdwn,
// & < > are control characters, so a '<' may only open a link and an '&' only an entity.
func checkSlack(m map[string]any) error {
	if s, _ := m["text"].(string); s == "" {
		return fmt.Errorf("no fallback text")
	}
	if err := checkMrkdwn(m["text"].(string)); err != nil {
		return fmt.Errorf("fallback: %v", err)
	}
	blocks, _ := m["blocks"].([]any)
	if len(blocks) == 0 || len(blocks) > 50 {
		return fmt.Errorf("%d blocks", len(blocks))
	}
	for _, b := range blocks {
		b, _ := b.(map[string]any)
		switch b["type"] {
		case "section":
			text, hasText := b["text"].(map[string]any)
			fields, _ := b["fields"].([]any)
			if !hasText && len(fields) == 0 || len(fields) > 10 {
				return fmt.Errorf("section with text %v and %d fields", b["text"], len(fields))
			}
			if hasText {
				if err := checkTextObject(text, 3000); err != nil {
					return err
				}
			}
			for _, f := range fields {
				f, _ := f.(map[string]any)
				if err := checkTextObject(f, 2000); err != nil {
					return err
				}
			}
		case "context":
			elements, _ := b["elements"].([]any)
			if len(elements) == 0 || len(elements) > 10 {
				return fmt.Errorf("context with %d elements", len(elements))
			}
			for _, e := range elements {
				e, _ := e.(map[string]any)
				if err := checkTextObject(e, 3000); err != nil {
					return err
				}
			}
		case "divider", "header":
		default:
			return fmt.Errorf("block %v", b["type"])
		}
	}
	return nil
}

func checkTextObject(o map[string]any, limit int) error {
	text, _ := o["text"].(string)
	switch {
	case text == "" || len([]rune(text)) > limit:
		return fmt.Errorf("text of %d characters", len([]rune(text)))
	case o["type"] == "mrkdwn":
		return checkMrkdwn(text)
	case o["type"] != "plain_text":
		return fmt.Errorf("text object of type %v", o["type"])
	}
	return nil
}

var (
	mrkdwnLink   = regexp.MustCompile(`<https?://[^<>|\s]+\|[^<>]*>`)
	mrkdwnEntity = regexp.MustCompile(`&(amp|lt|gt);`)
)

func checkMrkdwn(s string) error {
	rest := mrkdwnEntity.ReplaceAllString(mrkdwnLink.ReplaceAllString(s, ""), "")
	if strings.ContainsAny(rest, "<>&") {
		return fmt.Errorf("unescaped control character in %q", s)
	}
	return nil
}

func TestSlackMessage(t *testing.T) {
	if err := checkSlack(decode(t, []byte(slackDocumented))); err != nil {
		t.Fatalf("Slack's own example fails the check: %v", err)
	}
	if checkMrkdwn("Hi <!channel>") == nil || checkMrkdwn("a & b") == nil {
		t.Fatal("the check passes unescaped text")
	}

	body, h, err := notify.SlackBody(saved())
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, body)
	if err := checkSlack(m); err != nil {
		t.Errorf("%v\n%s", err, body)
	}
	if h.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", h.Get("Content-Type"))
	}
	var texts []string
	for _, b := range m["blocks"].([]any) {
		b := b.(map[string]any)
		if text, ok := b["text"].(map[string]any); ok {
			texts = append(texts, text["text"].(string))
		}
		for _, key := range []string{"fields", "elements"} {
			if list, ok := b[key].([]any); ok {
				for _, f := range list {
					texts = append(texts, f.(map[string]any)["text"].(string))
				}
			}
		}
	}
	want := []string{
		"*Contoso &lt;Fabrikam&gt; &amp; Co*: support contact changed",
		"*Email*\nold@contoso.example → &lt;!channel&gt; new@contoso.example",
		"*Website*\n(empty) → [Microsoft](https://evil.example) &amp; *more*",
		"Saved in this app by Adèle Vance (adele@contoso.example) · 2026-03-01 14:05:09 UTC · partner tenant 11111111-2222-3333-4444-555555555555",
		"<" + link + "|Open in the change history>",
	}
	if !slices.Equal(texts, want) {
		t.Errorf("blocks' text\n got %q\nwant %q", texts, want)
	}
	if m["text"] != "Contoso &lt;Fabrikam&gt; &amp; Co: support contact changed (email, website). Saved in this app by Adèle Vance (adele@contoso.example)." {
		t.Errorf("fallback %q", m["text"])
	}

	body, _, _ = notify.SlackBody(outside())
	m = decode(t, body)
	if err := checkSlack(m); err != nil {
		t.Error(err)
	}
	if !strings.HasPrefix(m["text"].(string), "11111111-2222-3333-4444-555555555555: support contact changed") || !strings.Contains(m["text"].(string), "Changed outside this app") {
		t.Errorf("outside, no company: %q", m["text"])
	}
}

// A value longer than anyone reads in a chat is cut, so that Slack does not refuse the message.
func TestLongValuesAreCut(t *testing.T) {
	n := saved()
	n.After.Website = strings.Repeat("é<", 3000)
	body, _, _ := notify.SlackBody(n)
	if err := checkSlack(decode(t, body)); err != nil {
		t.Error(err)
	}
	body, _, _ = notify.TeamsBody(n)
	if len(body) > 8000 {
		t.Errorf("Teams message of %d bytes", len(body))
	}
}

// A notification's id follows its entry's id and time, whatever the time zone.
func TestNotificationID(t *testing.T) {
	at := time.Date(2026, 3, 1, 14, 5, 9, 123e6, time.UTC)
	if notify.NotificationID(42, at) != notify.NotificationID(42, at.In(time.FixedZone("x", 3600))) || notify.NotificationID(42, at) == notify.NotificationID(42, at.Add(time.Millisecond)) {
		t.Error("the id does not follow the entry's id and time alone")
	}
}
