package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Operations are the routes for the people who run the app: no session, no CSRF cookie. A nil
// one is not served (tests).
type Operations struct {
	Healthz, Readyz echo.HandlerFunc
	Metrics         http.Handler
	Static          http.Handler // the embedded assets, by their path under static/
}

// Routes lists every route of the app, in one place. prefix is where routes are mounted: the
// base path, or "/" when the proxy strips it (every URL the browser sees keeps the base path).
// identityHeader is the SSO proxy's header naming the person, or "".
func (h *Handlers) Routes(e *echo.Echo, prefix string, ops Operations, identityHeader string) {
	if ops.Healthz != nil {
		e.GET(prefix+"healthz", ops.Healthz)
	}
	if ops.Readyz != nil {
		e.GET(prefix+"readyz", ops.Readyz)
	}
	if ops.Metrics != nil {
		e.GET(prefix+"metrics", echo.WrapHandler(ops.Metrics))
	}
	if ops.Static != nil {
		e.GET(prefix+"static/*", echo.WrapHandler(http.StripPrefix(h.basePath+"static", ops.Static)))
	}
	if prefix != "/" {
		e.GET(strings.TrimSuffix(prefix, "/"), func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, h.basePath) })
	}

	g := e.Group(strings.TrimSuffix(prefix, "/"), CSRF(h.basePath, h.secure), h.EndSessionOfSomeoneElse(identityHeader), h.localize)
	g.GET("/lang", h.switchLanguage)
	g.POST("/lang", h.switchLanguageKeepingValues, h.requireUser)
	g.GET("/", h.showProfile, h.requireUser, h.withinDeadline)
	g.POST("/save", h.saveProfile, h.withinDeadline) // a save reads who is signed in itself: see save
	if h.history != nil {
		g.GET("/history", h.showHistory, h.requireUser, h.withinDeadline)
		// Exports are bounded per write instead: a long one on a slow link still completes.
		g.GET("/history.csv", h.exportHistoryCSV, h.requireUser)
		g.GET("/history.json", h.exportHistoryJSON, h.requireUser)
	}
	if h.watch != nil {
		g.POST("/watch/start", h.startWatch, h.requireUser)
		g.POST("/watch/stop", h.stopWatch, h.requireUser)
	}
	g.GET("/auth/signin", h.startSignIn)
	g.GET("/auth/callback", h.callback)
	g.POST("/auth/signout", h.signOut)
	g.GET("/auth/signed-out", h.signedOut)
}
