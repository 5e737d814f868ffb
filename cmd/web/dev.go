package main

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"

	"pcsupport/internal/config"
	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// devStandIns are the development sign-in provider and the Partner Center emulator, each on its
// own loopback port, as separate services would be. They exist only with --dev.
type devStandIns struct {
	idp            *devidp.Provider
	emu            *pcemu.Emulator
	idpURL, emuURL string
	servers        []*http.Server
	stops          []func() // what else ends with them (the federated token's rotation)
}

const devClientID = "pcsupport-dev"

// startDevStandIns starts the stand-ins and points cfg at them. Secrets and keys are made here,
// at run time; nothing of the kind is in the repository.
func startDevStandIns(cfg *config.Config, log *slog.Logger) (*devStandIns, error) {
	if !cfg.Dev {
		return nil, errors.New("the development stand-ins run only with --dev")
	}
	d := &devStandIns{}
	idpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dev sign-in provider: %w", err)
	}
	d.idpURL = "http://" + idpLn.Addr().String()
	client, credential, stopCredential, err := devClient(cfg, log)
	d.stops = append(d.stops, stopCredential)
	if err == nil {
		d.idp, err = devidp.New(devidp.Options{
			Issuer:              d.idpURL,
			Clients:             []devidp.Client{client},
			AccessTokenLifetime: cfg.DevTokenLifetime,
		})
	}
	if err != nil {
		idpLn.Close()
		d.close()
		return nil, fmt.Errorf("dev sign-in provider: %w", err)
	}
	d.serve(idpLn, d.idp, log)

	var keys []crypto.PublicKey
	for _, k := range d.idp.KeySet().Keys {
		keys = append(keys, k.Key)
	}
	d.emu = pcemu.New(pcemu.Options{KeySet: &oidc.StaticKeySet{PublicKeys: keys}, Issuers: []string{d.idpURL},
		Logger: log.With("component", "pcemu")})
	for _, p := range devidp.Personas() {
		d.emu.AssignRole(p.TenantID, p.ObjectID, p.Role)
	}
	emuLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.close()
		return nil, fmt.Errorf("Partner Center emulator: %w", err)
	}
	d.emuURL = "http://" + emuLn.Addr().String()
	d.serve(emuLn, d.emu, log)

	cfg.Issuer, cfg.ClientID, cfg.ClientCredential = d.idpURL, devClientID, credential
	cfg.PartnerCenterURL = d.emuURL
	cfg.SessionKeys = [][]byte{securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)}
	return d, nil
}

func (d *devStandIns) serve(ln net.Listener, h http.Handler, log *slog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	d.servers = append(d.servers, srv)
	go func() { _ = srv.Serve(ln) }()
}

func (d *devStandIns) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range d.servers {
		_ = s.Shutdown(ctx)
	}
	for _, stop := range d.stops {
		stop()
	}
}

// toolsURL is the emulator's fault injection page, linked from the app's dev banner.
func (d *devStandIns) toolsURL() string {
	if d == nil {
		return ""
	}
	return d.emuURL + "/_emulator/"
}
