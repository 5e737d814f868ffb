package notify

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The notification that the watch of changes made outside the app stopped (KindWatchStopped):
// the sign-in provider refused the refresh token the watch kept (revoked, expired, a new
// sign-in demanded by MFA or Conditional Access). It tells of no change, so it has no entry
// (EntryID 0) and no values; By is who started the watch, Reason the provider's words.

// EventTypeWatchStopped is the Standard Webhooks event type of a KindWatchStopped notification.
const EventTypeWatchStopped = "support_profile.watch_stopped"

// WatchStoppedID is the id of the notification that a tenant's watch stopped at at: stable
// across redeliveries, and holding no '.' (the Standard Webhooks signature scheme forbids it).
func WatchStoppedID(tenantID string, at time.Time) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, tenantID)
	return "msg_watch_" + clean + "_" + strconv.FormatInt(at.UnixMilli(), 10)
}

// linkTitle is the words of the notification's link.
func (n Notification) linkTitle() string {
	if n.Kind == KindWatchStopped {
		return "Open the app to start the watch again"
	}
	return linkTitle
}

func (n Notification) watchStoppedTitle() string {
	return n.company() + ": watching for changes made outside this app stopped"
}

// startedBy names who started the watch.
func (n Notification) startedBy() string {
	name := cmp.Or(n.By.Name, n.By.Username, n.By.ObjectID, "someone")
	if n.By.Username != "" && n.By.Username != name {
		return fmt.Sprintf("%s (%s)", name, n.By.Username)
	}
	return name
}

func (n Notification) watchStoppedWhy() string {
	return "Why: " + cut(cmp.Or(n.Reason, "the sign-in provider refused the kept sign-in"))
}

const watchStoppedWhatNow = "Changes made outside this app are no longer noticed until they open it. An admin must start the watch again with their sign-in."

type watchStoppedData struct {
	TenantID  string    `json:"tenant_id"`
	Company   string    `json:"company"` // "" when not known
	Kind      string    `json:"kind"`    // watch_stopped
	At        time.Time `json:"at"`      // when it stopped
	Reason    string    `json:"reason"`
	StartedBy Person    `json:"started_by"`
	Link      string    `json:"link,omitempty"`
}

func watchStoppedPayload(n Notification) any {
	return struct {
		Type      string           `json:"type"`
		Timestamp time.Time        `json:"timestamp"`
		Data      watchStoppedData `json:"data"`
	}{EventTypeWatchStopped, n.At.UTC(), watchStoppedData{TenantID: n.TenantID, Company: n.Company, Kind: n.Kind,
		At: n.At.UTC(), Reason: n.Reason, StartedBy: n.By, Link: n.Link}}
}

func teamsWatchStopped(n Notification) []any {
	body := []any{
		richText(textRun(n.watchStoppedTitle(), "weight", "Bolder", "size", "Medium")),
		richText(textRun("Started by "+n.startedBy()+" · stopped "+n.when(), "isSubtle", true)),
		richText(textRun(n.watchStoppedWhy())),
		richText(textRun(watchStoppedWhatNow)),
	}
	if n.Company != "" {
		body = append(body, richText(textRun("Partner tenant "+n.TenantID, "isSubtle", true, "size", "Small")))
	}
	return body
}

func slackWatchStopped(n Notification) ([]byte, http.Header, error) {
	context := "Started by " + n.startedBy() + " · stopped " + n.when()
	if n.Company != "" {
		context += " · partner tenant " + n.TenantID
	}
	blocks := []any{
		map[string]any{"type": "section", "text": mrkdwn("*" + slackEscape(n.company()) + "*: watching for changes made outside this app stopped")},
		map[string]any{"type": "section", "text": mrkdwn(slackEscape(n.watchStoppedWhy() + "\n" + watchStoppedWhatNow))},
		map[string]any{"type": "context", "elements": []any{mrkdwn(slackEscape(context))}},
	}
	return slackMessage(n, n.watchStoppedTitle()+". "+watchStoppedWhatNow, blocks)
}
