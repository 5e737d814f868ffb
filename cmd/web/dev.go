//go:build !nodev

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/gorilla/securecookie"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/config"
	"pcsupport/internal/devidp"
	"pcsupport/internal/devstack"
	"pcsupport/internal/notify"
	"pcsupport/internal/pcemu"
)

// devStandInsBuilt says this build carries the development stand-ins (dev_nodev.go: it does not).
const devStandInsBuilt = true

// devStandIns are the development sign-in provider and the Partner Center emulator
// (internal/devstack), each on its own loopback port. They exist only with --dev. The short
// names are those the app's tests reach them by (app.dev.emu, app.dev.idpURL).
type devStandIns struct {
	*devstack.Stack
	idp            *devidp.Provider
	emu            *pcemu.Emulator
	idpURL, emuURL string
	stop           func() // ends what else runs with them (the federated token's rotation)
}

const devClientID = "pcsupport-dev"

// devProfilesFile, in the data directory, is where the emulator keeps the support profiles.
const devProfilesFile = "emulator-profiles.json"

// startDevStandIns starts the stand-ins and points cfg at them. Their secrets and keys, and the
// session keys, are made here at run time; nothing of the kind is in the repository.
func startDevStandIns(cfg *config.Config, log *slog.Logger) (*devStandIns, error) {
	if !cfg.Dev {
		return nil, errors.New("the development stand-ins run only with --dev")
	}
	client, credential, stop, err := devClient(cfg, log)
	if err != nil {
		stop()
		return nil, fmt.Errorf("dev client credential: %w", err)
	}
	// Without receivers of its own, --dev tells every change to a stand-in receiver whose page
	// shows what came (linked from the banner).
	var devReceiverSecret notify.Secret // zero: no stand-in receiver
	if len(cfg.NotifyReceivers) == 0 {
		devReceiverSecret = notify.NewSecret()
		cfg.NotifySecret = devReceiverSecret
	}
	s, err := devstack.Start(devstack.Options{
		NotifySecret:        devReceiverSecret,
		Clients:             []devstack.Client{client},
		AccessTokenLifetime: cfg.DevTokenLifetime,
		Logger:              log,
		// Kept beside the change history: a restart must not look like a change nobody made.
		ProfilesFile: filepath.Join(cfg.DataDir, devProfilesFile),
		AppURL:       cfg.PublicURL.String(),
	})
	if err != nil {
		stop()
		return nil, err
	}
	if credential == nil { // a secret, made by the stand-ins
		credential = clientauth.Secret(s.Secret(devClientID))
	}
	if s.Notifications != nil {
		var problems []string
		if cfg.NotifyReceivers, problems = notify.ParseReceivers(s.Notifications.URLs(s.NotificationsURL)); len(problems) > 0 {
			s.Close()
			stop()
			return nil, fmt.Errorf("dev notifications receiver: %s", strings.Join(problems, "; "))
		}
	}
	cfg.Issuer, cfg.ClientID, cfg.ClientCredential = s.ProviderURL, devClientID, credential
	cfg.PartnerCenterURL = s.EmulatorURL
	cfg.SessionKeys = [][]byte{securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)}
	return &devStandIns{Stack: s, idp: s.Provider, emu: s.Emulator, idpURL: s.ProviderURL, emuURL: s.EmulatorURL, stop: stop}, nil
}

func (d *devStandIns) close() {
	d.Close()
	d.stop()
}

// toolsURL is the emulator's fault injection page, linked from the app's dev banner.
func (d *devStandIns) toolsURL() string {
	if d == nil {
		return ""
	}
	return d.FaultsURL()
}

// notificationsURL is the stand-in receiver's page, linked from the dev banner ("" without it).
func (d *devStandIns) notificationsURL() string {
	if d == nil || d.Notifications == nil {
		return ""
	}
	return d.NotificationsURL + "/"
}

func (d *devStandIns) announce(w io.Writer) {
	fmt.Fprintf(w, "Development mode: sign-in provider %s, Partner Center emulator %s (faults: %s)\n", d.idpURL, d.emuURL, d.FaultsURL())
	if u := d.notificationsURL(); u != "" {
		fmt.Fprintf(w, "Notifications of changes go to a stand-in receiver: %s\n", u)
	}
}
