// Command pcemu runs the Partner Center emulator (internal/pcemu) on its own,
// for people who want to point other tools at it. See pcemu --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"pcsupport/internal/pcemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "pcemu:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	keySet, err := newKeySet(ctx, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	emu := newEmulator(cfg, keySet, log)
	if cfg.ProfilesFile != "" {
		if err := emu.KeepProfilesIn(cfg.ProfilesFile); err != nil {
			ln.Close()
			return err
		}
	}
	return serve(ctx, ln, emu, log)
}

func newEmulator(cfg config, keySet oidc.KeySet, log *slog.Logger) *pcemu.Emulator {
	o := pcemu.Options{
		KeySet:      keySet,
		Audiences:   cfg.Audiences,
		DefaultRole: cfg.DefaultRole,
		BOM:         cfg.BOM,
		RateLimit:   cfg.RateLimit,
		Logger:      log,
	}
	if cfg.Issuer != "" {
		o.Issuers = []string{cfg.Issuer}
	}
	e := pcemu.New(o)
	for _, a := range cfg.Roles {
		e.AssignRole(a.TenantID, a.ObjectID, a.Role)
	}
	return e
}

// newKeySet uses the JWKS URL when given, else finds it by OpenID Connect discovery.
func newKeySet(ctx context.Context, cfg config) (oidc.KeySet, error) {
	jwksURL := cfg.JWKSURL
	if jwksURL == "" {
		discoverCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		provider, err := oidc.NewProvider(discoverCtx, cfg.Issuer)
		if err != nil {
			return nil, fmt.Errorf("discover the JWKS of %s: %w", cfg.Issuer, err)
		}
		var meta struct {
			JWKSURL string `json:"jwks_uri"`
		}
		if err := provider.Claims(&meta); err != nil || meta.JWKSURL == "" {
			return nil, fmt.Errorf("discover the JWKS of %s: no jwks_uri in its metadata", cfg.Issuer)
		}
		jwksURL = meta.JWKSURL
	}
	// The key set outlives this call: keys are fetched again when a token names an unknown kid.
	return oidc.NewRemoteKeySet(context.WithoutCancel(ctx), jwksURL), nil
}

// serve answers on ln until ctx ends, then lets requests in flight finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("pcemu listening", "url", "http://"+ln.Addr().String(), "control", "http://"+ln.Addr().String()+"/_emulator/")
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("pcemu shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// A queued fault may delay an answer for longer than anyone waits.
		log.Warn("pcemu: requests still running after 10s; closing them", "err", err)
		return srv.Close()
	}
	return nil
}
