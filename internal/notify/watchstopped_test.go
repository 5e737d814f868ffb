package notify_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/notify"
)

const appLink = "https://tools.example.com/partner/support/"

// watchStopped tells that the watch stopped, with a reason from the provider that needs escaping.
func watchStopped() notify.Notification {
	at := time.Date(2026, 3, 2, 8, 0, 1, 500e6, time.UTC)
	tenant := "11111111-2222-3333-4444-555555555555"
	return notify.Notification{
		ID: notify.WatchStoppedID(tenant, at), TenantID: tenant, Company: "Contoso <Fabrikam> & Co", Kind: notify.KindWatchStopped,
		By: notify.Person{ObjectID: "oid-7", Name: "Adèle Vance", Username: "adele@contoso.example"}, At: at,
		Reason: "invalid_grant: AADSTS50173 <!channel> the grant was revoked & *gone*",
		Link:   notify.EntryLink(appLink, 0),
	}
}

func TestWatchStoppedStandardMessage(t *testing.T) {
	n := watchStopped()
	if n.ID != "msg_watch_11111111-2222-3333-4444-555555555555_1772438401500" || strings.Contains(n.ID, ".") {
		t.Errorf("id %q", n.ID)
	}
	if n.Link != appLink {
		t.Errorf("link %q, want the app's page (no history entry)", n.Link)
	}
	secret := notify.NewSecret()
	sentAt := n.At.Add(time.Second)
	body, h, err := notify.StandardBody(n, secret, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStandardPayload(decode(t, body)); err != nil {
		t.Error(err)
	}
	if err := secret.Verify(h, body, sentAt); err != nil || h.Get("webhook-id") != n.ID {
		t.Errorf("signature: %v, id %q", err, h.Get("webhook-id"))
	}
	want := `{"type":"support_profile.watch_stopped","timestamp":"2026-03-02T08:00:01.5Z","data":{` +
		`"tenant_id":"11111111-2222-3333-4444-555555555555","company":"Contoso <Fabrikam> & Co","kind":"watch_stopped",` +
		`"at":"2026-03-02T08:00:01.5Z","reason":"invalid_grant: AADSTS50173 <!channel> the grant was revoked & *gone*",` +
		`"started_by":{"object_id":"oid-7","name":"Adèle Vance","username":"adele@contoso.example"},"link":"` + appLink + `"}}`
	if string(body) != want {
		t.Errorf("payload\n got %s\nwant %s", body, want)
	}
}

func TestWatchStoppedTeamsMessage(t *testing.T) {
	body, _, err := notify.TeamsBody(watchStopped())
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, body)
	if err := checkTeams(m); err != nil {
		t.Errorf("%v\n%s", err, body)
	}
	lines, markdown := teamsText(m)
	want := []string{
		"Contoso <Fabrikam> & Co: watching for changes made outside this app stopped",
		"Started by Adèle Vance (adele@contoso.example) · stopped 2026-03-02 08:00:01 UTC",
		"Why: invalid_grant: AADSTS50173 <!channel> the grant was revoked & *gone*",
		"Changes made outside this app are no longer noticed until they open it. An admin must start the watch again with their sign-in.",
		"Partner tenant 11111111-2222-3333-4444-555555555555",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("card text\n got %q\nwant %q", lines, want)
	}
	for _, md := range markdown {
		if strings.Contains(md, "AADSTS") {
			t.Errorf("the provider's words in Markdown: %q", md)
		}
	}
	action := m["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)["actions"].([]any)[0].(map[string]any)
	if action["url"] != appLink || action["title"] != "Open the app to start the watch again" {
		t.Errorf("action %v", action)
	}
}

func TestWatchStoppedSlackMessage(t *testing.T) {
	body, _, err := notify.SlackBody(watchStopped())
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, body)
	if err := checkSlack(m); err != nil {
		t.Errorf("%v\n%s", err, body)
	}
	var texts []string
	for _, b := range m["blocks"].([]any) {
		b := b.(map[string]any)
		if text, ok := b["text"].(map[string]any); ok {
			texts = append(texts, text["text"].(string))
		}
		if list, ok := b["elements"].([]any); ok {
			for _, f := range list {
				texts = append(texts, f.(map[string]any)["text"].(string))
			}
		}
	}
	want := []string{
		"*Contoso &lt;Fabrikam&gt; &amp; Co*: watching for changes made outside this app stopped",
		"Why: invalid_grant: AADSTS50173 &lt;!channel&gt; the grant was revoked &amp; *gone*\nChanges made outside this app are no longer noticed until they open it. An admin must start the watch again with their sign-in.",
		"Started by Adèle Vance (adele@contoso.example) · stopped 2026-03-02 08:00:01 UTC · partner tenant 11111111-2222-3333-4444-555555555555",
		"<" + appLink + "|Open the app to start the watch again>",
	}
	if !slices.Equal(texts, want) {
		t.Errorf("blocks' text\n got %q\nwant %q", texts, want)
	}
	if !strings.HasPrefix(m["text"].(string), "Contoso &lt;Fabrikam&gt; &amp; Co: watching for changes made outside this app stopped.") {
		t.Errorf("fallback %q", m["text"])
	}
}
