package main

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"pcsupport/internal/auth"
	"pcsupport/internal/config"
	"pcsupport/internal/handlers"
	"pcsupport/internal/pcclient"
	"pcsupport/static"
)

// app is the wired application.
type app struct {
	cfg     *config.Config
	handler http.Handler
	dev     *devStandIns // nil unless --dev
	close   func()
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

	sweepCtx, stopSweep := context.WithCancel(ctx)
	closers = append(closers, stopSweep)
	sessionDir := filepath.Join(cfg.DataDir, "sessions")
	cookies := auth.CookieOptions{Path: cfg.BasePath, Secure: cfg.Secure(), Lifetime: cfg.SessionLifetime}
	store, err := auth.NewFilesystemStore(sessionDir, cookies, cfg.SessionKeys...)
	if err != nil {
		a.close()
		return nil, err
	}
	go auth.SweepFilesystemSessions(sweepCtx, sessionDir, cfg.SessionLifetime, time.Hour, log)

	signIn, err := auth.New(auth.Config{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: cfg.RedirectURL(), Scopes: cfg.Scopes(), BasePath: cfg.BasePath,
		Store: store, SessionLifetime: cfg.SessionLifetime, Logger: log,
	})
	if err != nil {
		a.close()
		return nil, err
	}
	pc, err := pcclient.New(pcclient.Config{
		BaseURL: cfg.PartnerCenterURL, Timeout: cfg.PCTimeout, MaxRetryAfterWait: cfg.PCMaxRetryAfter,
		ApplicationName: "pcsupport", Logger: log,
	})
	if err != nil {
		a.close()
		return nil, err
	}
	assets := static.New()
	h := handlers.New(handlers.Options{Profiles: pc, Sessions: signIn, Assets: assets, BasePath: cfg.BasePath, Logger: log,
		DevTools: a.dev.toolsURL()})
	a.handler = newRouter(cfg, h, assets, log)
	return a, nil
}

// newRouter builds the Echo router: middleware, then every route under the base path.
func newRouter(cfg *config.Config, h *handlers.Handlers, assets http.Handler, log *slog.Logger) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.HTTPErrorHandler
	base := cfg.BasePath

	e.Use(middleware.Recover())
	e.Use(requestLogger(log))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff: "nosniff",
		XFrameOptions:      "DENY",
		HSTSMaxAge:         31536000, // sent only over https
		ReferrerPolicy:     "same-origin",
		// No inline script or style anywhere: htmx is configured by a meta tag, styles are one file.
		ContentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	}))
	e.Use(middleware.BodyLimit("64K"))

	e.GET(base+"healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET(base+"static/*", echo.WrapHandler(http.StripPrefix(base+"static", assets)))
	if base != "/" {
		e.GET(strings.TrimSuffix(base, "/"), func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, base) })
	}

	g := e.Group(strings.TrimSuffix(base, "/"), handlers.CSRF(base, cfg.Secure()))
	h.Register(g)
	return e
}

// requestLogger logs one line per request, without the query string: the sign-in callback's
// query carries the authorization code.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod: true, LogURIPath: true, LogStatus: true, LogLatency: true, LogError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("duration", v.Latency))
			return nil
		},
	})
}
