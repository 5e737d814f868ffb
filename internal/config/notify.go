package config

import (
	"slices"

	"pcsupport/internal/notify"
)

// notifications: the webhooks told of every change, and the secret that signs for the Standard
// Webhooks ones. Both are secrets (a webhook's URL carries its token): no problem repeats them.
func (c *Config) notifications(d *declared, bad func(string, ...any)) {
	if !d.notifyWebhooks.FileFailed() {
		receivers, problems := notify.ParseReceivers(d.notifyWebhooks.Value())
		for _, p := range problems {
			bad("%s: %s", d.notifyWebhooks.Name(), p)
		}
		c.NotifyReceivers = receivers
	}
	standard := slices.ContainsFunc(c.NotifyReceivers, func(r notify.Receiver) bool { return r.Format == notify.Standard })
	switch secret := d.notifySecret.Value(); {
	case d.notifySecret.FileFailed():
	case secret == "" && standard:
		bad("%s is missing (or set %s): it signs the messages to the Standard Webhooks receivers; make one with: echo whsec_$(openssl rand -base64 32)", d.notifySecret.Name(), d.notifySecret.File().Name())
	case secret != "":
		s, err := notify.ParseSecret(secret)
		if err != nil {
			bad("%s %v", d.notifySecret.Name(), err)
		}
		c.NotifySecret = s
	}
}
