package config

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"pcsupport/internal/notify"
)

const (
	webhookTeams = "teams:https://prod-42.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=hunter2"
	webhookSlack = "slack:https://hooks.slack.com/services/T0/B0/hunter2"
	webhookPlain = "https://hooks.example.net/pcsupport/hunter2"
	// a secret made for the test: whsec_ and base64 of 32 bytes of 7
	testSecret = "whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
)

func TestNotificationSettings(t *testing.T) {
	dir := t.TempDir()
	secretFile, webhooksFile := filepath.Join(dir, "secret"), filepath.Join(dir, "webhooks")
	os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600)
	os.WriteFile(webhooksFile, []byte(webhookPlain+"\n"+webhookSlack+"\n"), 0o600)
	for name, tc := range map[string]struct {
		env     map[string]string
		formats []notify.Format
		secret  bool
	}{
		"none":                  {nil, nil, false},
		"one of each":           {map[string]string{"PCS_NOTIFY_WEBHOOKS": webhookPlain + " " + webhookTeams + " " + webhookSlack, "PCS_NOTIFY_SECRET": testSecret}, []notify.Format{notify.Standard, notify.Teams, notify.Slack}, true},
		"teams needs no secret": {map[string]string{"PCS_NOTIFY_WEBHOOKS": webhookTeams}, []notify.Format{notify.Teams}, false},
		"from files":            {map[string]string{"PCS_NOTIFY_WEBHOOKS_FILE": webhooksFile, "PCS_NOTIFY_SECRET_FILE": secretFile}, []notify.Format{notify.Standard, notify.Slack}, true},
	} {
		e := production()
		maps.Copy(e, tc.env)
		c, err := Load(nil, env(e), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var formats []notify.Format
		for _, r := range c.NotifyReceivers {
			formats = append(formats, r.Format)
		}
		if len(formats) != len(tc.formats) || c.NotifySecret.IsZero() == tc.secret {
			t.Errorf("%s: receivers %v, secret %v; want %v, secret %v", name, formats, !c.NotifySecret.IsZero(), tc.formats, tc.secret)
		}
		for i := range formats {
			if formats[i] != tc.formats[i] {
				t.Errorf("%s: receivers %v, want %v", name, formats, tc.formats)
			}
		}
	}
}

// Problems are listed with the others, and never repeat a webhook's token or the secret.
func TestBadNotificationSettings(t *testing.T) {
	base := production()
	delete(base, "PCS_CLIENT_ID") // another problem, listed with this one
	assertRefusedBeside(t, base, "PCS_CLIENT_ID", map[string]refusal{
		"http elsewhere":      {map[string]string{"PCS_NOTIFY_WEBHOOKS": "http://hooks.example.net/hunter2"}, "PCS_NOTIFY_WEBHOOKS: receiver 1 (standard) must use https"},
		"not a URL":           {map[string]string{"PCS_NOTIFY_WEBHOOKS": webhookTeams + " slack:hooks.slack.com/services/hunter2"}, "PCS_NOTIFY_WEBHOOKS: receiver 2 (slack) is not an absolute URL"},
		"no secret":           {map[string]string{"PCS_NOTIFY_WEBHOOKS": webhookTeams + " " + webhookPlain}, "PCS_NOTIFY_SECRET is missing (or set PCS_NOTIFY_SECRET_FILE)"},
		"not whsec_":          {map[string]string{"PCS_NOTIFY_WEBHOOKS": webhookPlain, "PCS_NOTIFY_SECRET": "hunter2hunter2hunter2hunter2hunter2"}, `PCS_NOTIFY_SECRET must begin with "whsec_"`},
		"too short":           {map[string]string{"PCS_NOTIFY_WEBHOOKS": webhookPlain, "PCS_NOTIFY_SECRET": "whsec_aHVudGVyMmh1bnRlcjI="}, "PCS_NOTIFY_SECRET holds 14 bytes"},
		"not base64":          {map[string]string{"PCS_NOTIFY_SECRET": "whsec_hunter2!"}, "PCS_NOTIFY_SECRET is not whsec_ and base64"},
		"both secret forms":   {map[string]string{"PCS_NOTIFY_SECRET": testSecret, "PCS_NOTIFY_SECRET_FILE": "/nonexistent"}, "both set"},
		"unreadable secret":   {map[string]string{"PCS_NOTIFY_WEBHOOKS": webhookPlain, "PCS_NOTIFY_SECRET_FILE": "/nonexistent/secret"}, "PCS_NOTIFY_SECRET_FILE: open /nonexistent/secret"},
		"unreadable webhooks": {map[string]string{"PCS_NOTIFY_WEBHOOKS_FILE": "/nonexistent/webhooks"}, "PCS_NOTIFY_WEBHOOKS_FILE: open /nonexistent/webhooks"},
	})
}
