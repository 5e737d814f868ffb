package notify_test

import (
	"fmt"
	"strings"
	"testing"

	"pcsupport/internal/notify"
)

// Webhook URLs as the services hand them out; the tokens are what must never show.
const (
	teamsURL = "https://prod-42.westeurope.logic.azure.com:443/workflows/0a1b2c3dTOKENWORKFLOW/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TOKENSIG123"
	slackURL = "https://hooks.slack.com/services/T00000000/B00000000/TOKENSLACK456"
	plainURL = "https://hooks.example.net/pcsupport/TOKENPLAIN789"
)

var tokens = []string{"TOKENWORKFLOW", "TOKENSIG123", "TOKENSLACK456", "TOKENPLAIN789"}

func TestParseReceivers(t *testing.T) {
	got, problems := notify.ParseReceivers("  " + plainURL + "\nteams:" + teamsURL + "\tslack:" + slackURL + " http://127.0.0.1:8099/standard http://[::1]:8099/x teams:http://localhost:1/teams ")
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := []struct {
		format notify.Format
		url    string
	}{{notify.Standard, plainURL}, {notify.Teams, teamsURL}, {notify.Slack, slackURL},
		{notify.Standard, "http://127.0.0.1:8099/standard"}, {notify.Standard, "http://[::1]:8099/x"}, {notify.Teams, "http://localhost:1/teams"}}
	if len(got) != len(want) {
		t.Fatalf("%d receivers, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Format != w.format || got[i].URL.String() != w.url || got[i].Index != i+1 {
			t.Errorf("receiver %d: %s %s (index %d), want %s %s", i+1, got[i].Format, got[i].URL, got[i].Index, w.format, w.url)
		}
		if s := got[i].String(); s != fmt.Sprintf("receiver %d (%s)", i+1, w.format) {
			t.Errorf("String = %q", s)
		}
	}
}

// Each problem says which receiver and why, and never repeats the URL.
func TestBadReceivers(t *testing.T) {
	for setting, want := range map[string]string{
		"http://hooks.example.net/TOKENPLAIN789":                   "receiver 1 (standard) must use https (http only to a loopback address)",
		"https://ok.example/a slack:http://hooks.slack.com/TOKENS": "receiver 2 (slack) must use https",
		"teams:ftp://files.example/TOKENWORKFLOW":                  "receiver 1 (teams) must be an https URL",
		"slack:/services/T0/B0/TOKENSLACK456":                      "receiver 1 (slack) is not an absolute URL",
		"https://user:TOKENSIG123@hooks.example.net/":              "receiver 1 (standard) is not an absolute URL without credentials",
		"https://hooks.example.net/#TOKENSIG123":                   "receiver 1 (standard) is not an absolute URL without credentials or fragment",
		"discord:https://discord.example/TOKENPLAIN789":            "receiver 1 (standard) must be an https URL (prefix teams: or slack: for those formats)",
		"https://hooks.example.net/%zzTOKENPLAIN789":               "receiver 1 (standard) is not an absolute URL",
	} {
		_, problems := notify.ParseReceivers(setting)
		all := strings.Join(problems, "\n")
		if len(problems) != 1 || !strings.Contains(all, want) {
			t.Errorf("%s: problems %q, want one saying %q", setting, problems, want)
		}
		for _, token := range append(tokens, "TOKENS") {
			if strings.Contains(all, token) {
				t.Errorf("%s: the problem repeats the URL: %s", setting, all)
			}
		}
	}
}

// A receiver's key follows its URL and format, not its place in the setting: pending deliveries
// still go where they were meant to after the setting is reordered.
func TestReceiverKeys(t *testing.T) {
	a, _ := notify.ParseReceivers(plainURL + " slack:" + slackURL)
	b, _ := notify.ParseReceivers("slack:" + slackURL + " " + plainURL + " " + plainURL)
	if a[0].Key() != b[1].Key() || a[1].Key() != b[0].Key() || a[0].Key() == a[1].Key() {
		t.Errorf("keys: %s %s / %s %s", a[0].Key(), a[1].Key(), b[0].Key(), b[1].Key())
	}
	if keys := notify.Keys(b); len(keys) != 2 || keys[0] != b[0].Key() || keys[1] != b[1].Key() {
		t.Errorf("Keys %v: each receiver once, in order", keys)
	}
	teams, _ := notify.ParseReceivers("teams:" + slackURL)
	if teams[0].Key() == a[1].Key() || !strings.HasPrefix(teams[0].Key(), "teams-") {
		t.Errorf("the same URL in another format is another receiver: %s %s", teams[0].Key(), a[1].Key())
	}
	for _, r := range append(a, teams...) {
		for _, token := range tokens {
			if strings.Contains(r.Key(), token) || strings.Contains(r.String(), token) {
				t.Errorf("%s shows its URL", r)
			}
		}
	}
}
