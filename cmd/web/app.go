package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"pcsupport/internal/auth"
	"pcsupport/internal/config"
	"pcsupport/internal/handlers"
	"pcsupport/internal/history"
	"pcsupport/internal/metrics"
	"pcsupport/internal/middleware"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/probes"
	"pcsupport/static"
)

// app is the wired application.
type app struct {
	cfg     *config.Config
	addr    string // the address actually listened on
	handler http.Handler
	dev     *devStandIns // nil unless --dev
	close   func()

	sessionStoreReady func(context.Context) error // whether the session store answers, for /readyz
}

// newApp wires the concrete types together: the one place that knows them all.
func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg}
	var closers []func()
	a.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if cfg.Dev {
		dev, err := startDevStandIns(cfg, log)
		if err != nil {
			return nil, err
		}
		a.dev = dev
		closers = append(closers, dev.close)
	}

	m := metrics.New()
	sessionStore, err := openSessionStore(ctx, cfg, log)
	if err != nil {
		a.close()
		return nil, err
	}
	closers = append(closers, sessionStore.close)
	a.sessionStoreReady = sessionStore.ready
	changeHistory, err := history.Open(ctx, history.Options{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL,
		Retention: cfg.HistoryRetention, Logger: log})
	if err != nil {
		a.close()
		return nil, err
	}
	closers = append(closers, func() {
		if err := changeHistory.Close(); err != nil {
			log.Warn("close the history store", "err", err)
		}
	})

	signIn, err := auth.New(auth.Config{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientCredential: cfg.ClientCredential, ClientAuthMethod: cfg.ClientAuthMethod,
		SignOutOfProvider: cfg.SignOutOfMicrosoft, SignedOutURL: cfg.SignedOutURL(),
		RedirectURL: cfg.RedirectURL(), Scopes: cfg.Scopes(), BasePath: cfg.BasePath,
		Store: sessionStore.store, CookieKeys: cfg.SessionKeys, Secure: cfg.Secure(),
		RefreshLocker: sessionStore.locker, SessionLifetime: cfg.SessionLifetime, Logger: log,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: m.TokenEndpointTransport(http.DefaultTransport)},
	})
	if err != nil {
		a.close()
		return nil, err
	}
	log.Info("client credential", "credential", cfg.ClientCredential.String())
	if cfg.SignOutOfMicrosoft {
		// Discovered now rather than at the first sign-in, so that a provider without an
		// end_session_endpoint is reported in the start-up log.
		discoverCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := signIn.Ready(discoverCtx); err != nil {
			log.Warn("sign-in provider not reachable yet", "err", err)
		}
		cancel()
	}
	pc, err := pcclient.New(pcclient.Config{
		BaseURL: cfg.PartnerCenterURL, Timeout: cfg.PCTimeout, MaxRetryAfterWait: cfg.PCMaxRetryAfter,
		ApplicationName: "pcsupport", Logger: log, HTTPClient: &http.Client{Transport: m.PartnerCenterTransport(partnerCenterTransport())},
	})
	if err != nil {
		a.close()
		return nil, err
	}
	assets := static.New()
	watchSeal := auth.NewTokenSeal(cfg.SessionKeys)
	h := handlers.New(handlers.Options{Profiles: pc, Users: signIn, Tokens: signIn, Flash: signIn, Kept: signIn, Roles: signIn,
		SignIn: handlers.LoginHintFrom(countedSignIns{SignIn: signIn, m: m}, cfg.IdentityHeader),
		Assets: assets, BasePath: cfg.BasePath, Logger: log, DevTools: a.dev.toolsURL(), DevNotifications: a.dev.notificationsURL(),
		ObserveSave: m.Save,
		Portal:      cfg.PortalURL(), Secure: cfg.Secure(), SaveLocker: sessionStore.saveLocker,
		History: changeHistory, ObserveHistoryFailure: m.HistoryWriteFailed, RequestDeadline: cfg.RequestDeadline,
		Organizations: pc,
		Watches:       changeHistory, WatchTokens: signIn, WatchSeal: watchSeal, WatchInterval: cfg.WatchInterval})
	sender, err := startNotifications(cfg, changeHistory, sessionStore, h, m, log, &closers)
	if err != nil {
		a.close()
		return nil, err
	}
	startWatcher(cfg, changeHistory, signIn, watchSeal, pc, sessionStore, sender, m, log, &closers)
	router := newRouter(cfg, h, assets, log, operations{metrics: m, readiness: []probes.Check{
		{Name: "sign-in provider", Check: signIn.Ready},
		{Name: "session store", Check: a.sessionStoreReady},
		{Name: "history store", Check: changeHistory.Ping, Informational: true},
	}})
	// signIn.Middleware lets each request read its session once, however many handlers ask.
	a.handler = middleware.Compress(signIn.Middleware(router))
	return a, nil
}

// operations are the routes and observers for the people who run the app.
type operations struct {
	metrics   *metrics.Metrics
	readiness []probes.Check
}

// newRouter builds the Echo router: middleware, then every route under the route prefix (the
// base path, or "/" when the proxy strips it; every URL the browser sees keeps the base path).
func newRouter(cfg *config.Config, h *handlers.Handlers, assets http.Handler, log *slog.Logger, ops operations) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.HTTPErrorHandler
	routes := cfg.RoutePrefix
	middleware.TrustProxies(e, cfg.TrustedProxies, cfg.IdentityHeader)

	e.Use(echomw.RequestID())
	if cfg.ProxyStripsPrefix {
		e.Use(middleware.RestorePrefix(cfg.BasePath))
	}
	e.Use(middleware.ObserveRequests(log, ops.metrics))
	e.Use(echomw.Recover())
	e.Use(echomw.SecureWithConfig(echomw.SecureConfig{
		ContentTypeNosniff: "nosniff",
		XFrameOptions:      "DENY",
		HSTSMaxAge:         31536000, // sent only over https (X-Forwarded-Proto only from trusted proxies)
		ReferrerPolicy:     "same-origin",
		// No inline script or style anywhere: htmx is configured by a meta tag, styles are one file.
		ContentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	}))
	e.Use(echomw.BodyLimit("64K"))
	// Pages and fragments are gzipped (compress.go); static assets carry their own gzip, made once.

	h.Routes(e, routes, handlers.Operations{Healthz: probes.Healthz, Readyz: probes.Readyz(ops.readiness, log),
		Metrics: ops.metrics.Handler(), Static: assets}, cfg.IdentityHeader)
	return e
}

// partnerCenterTransport is the Partner Center client's transport, with the timeouts pcclient
// uses when it makes its own (a transport is passed here only so that calls can be measured).
func partnerCenterTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 20 * time.Second
	// Every session talks to the one Partner Center host: keep enough idle connections for them
	// (Go's default of 2 makes most calls open a new TLS connection under load).
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 256
	return t
}
