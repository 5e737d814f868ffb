// Command web is the Partner Center support profile admin: staff sign in with Microsoft, see their
// company's support contact details and change them. `web --dev` runs it on the embedded stand-ins.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"pcsupport/internal/config"
	"pcsupport/internal/probes"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, config.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run starts the app and serves until ctx ends. ready, when not nil, receives the running app
// (tests use it to find the URL and the stand-ins).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- *app) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		u, err := config.HealthURL(getenv)
		if err != nil {
			return fmt.Errorf("healthcheck: %w", err)
		}
		return probes.Healthcheck(ctx, u, stdout)
	}
	cfg, debugAddr, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	slog.SetDefault(log) // libraries that log through slog's default (the dev provider's op) land here too
	stopDebug, err := openDebugListener(debugAddr, log, stdout)
	if err != nil {
		return err
	}
	defer stopDebug()

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another address with --listen or PCS_LISTEN)", cfg.ListenAddr, err)
	}
	defer ln.Close()
	cfg.UseListenerAddr(ln.Addr().String())

	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	a.addr = ln.Addr().String()

	// A save is two Partner Center calls (read, then write), each within --pc-timeout: the write
	// timeout and the wait for requests in flight at shutdown leave room for a whole slow save.
	saveBudget := 2 * cfg.PCTimeout
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      saveBudget + 30*time.Second,
		IdleTimeout:       120 * time.Second,
		// A real request's headers are a few KB: cookies (the session reference, a pending sign-in
		// or two, kept values: each under 4 KB), the proxy's forwarded and identity headers. Go's
		// default of 1 MB let slow clients make the app hold hundreds of MB of headers.
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "Support profile admin is running: open %s\n", cfg.PublicURL)
	if cfg.Dev {
		a.dev.announce(stdout)
	}
	if ready != nil {
		ready <- a
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	return shutdown(srv, saveBudget+10*time.Second, log)
}

// shutdown stops listening, closes idle connections, and lets requests in flight (a save under
// way) finish within grace; the stand-ins and the session store close after them.
func shutdown(srv *http.Server, grace time.Duration, log *slog.Logger) error {
	log.Info("shutting down: no new requests; waiting for those in flight", "at_most", grace)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still in flight were cut off: %w", err)
	}
	log.Info("stopped")
	return nil
}

// loadConfig reads the settings, and the address of the debug listener, which is not one of
// them (debug_flag.go). A build without the stand-ins refuses --dev before anything starts.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*config.Config, string, error) {
	args, debugAddr, err := takeDebugListen(args)
	if err != nil {
		return nil, "", err
	}
	if debugAddr != "" && !debugListenerBuilt {
		return nil, "", errNoDebugListener
	}
	cfg, err := config.Load(args, getenv, stderr)
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprint(stderr, debugListenHelp)
	}
	if err != nil {
		return nil, "", err
	}
	if cfg.Dev && !devStandInsBuilt {
		return nil, "", errNoDevStandIns
	}
	return cfg, debugAddr, nil
}

// openDebugListener starts the profiling listener when --debug-listen asked for it.
func openDebugListener(addr string, log *slog.Logger, stdout io.Writer) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	bound, stop, err := startDebugListener(addr, log)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "Debug listener (net/http/pprof, loopback only): http://%s/debug/pprof/\n", bound)
	return stop, nil
}

// errNoDevStandIns is --dev in a production build (-tags nodev), which has no stand-ins.
var errNoDevStandIns = errors.New("--dev: this build has no development stand-ins (it was built with -tags nodev, " +
	"as the container image is); run `go run ./cmd/web --dev` from the source instead")

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
