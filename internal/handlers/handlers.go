// Package handlers answers the browser: the support profile page, saving it, and the sign-in
// routes. It turns every outcome, Partner Center failures included, into words a person can act on.
package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"pcsupport/internal/auth"
	"pcsupport/internal/i18n"
	"pcsupport/internal/keyedlock"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/views"
)

// ProfileService is what the handlers need of Partner Center.
type ProfileService interface {
	GetSupportProfile(ctx context.Context, o pcclient.CallOptions) (pcclient.Profile, error)
	UpdateSupportProfile(ctx context.Context, o pcclient.CallOptions, p pcclient.Profile) (pcclient.Profile, error)
}

// Users tells who is signed in.
type Users interface {
	CurrentUser(r *http.Request) (auth.User, error)
}

// Tokens gives Partner Center calls the person's access token.
type Tokens interface {
	TokenSource(w http.ResponseWriter, r *http.Request) oauth2.TokenSource
	// RefreshAfterRejection renews the access token Partner Center just refused (a 401).
	RefreshAfterRejection(w http.ResponseWriter, r *http.Request, rejectedAccessToken string) error
}

// SignIn runs the sign-in routes.
type SignIn interface {
	StartSignIn(w http.ResponseWriter, r *http.Request, returnTo string, o auth.SignInOptions) (string, error)
	FinishSignIn(w http.ResponseWriter, r *http.Request) (string, error)
	SignOut(w http.ResponseWriter, r *http.Request) error
	// ProviderSignOutURL is where to go after SignOut to be signed out of the provider too, or "".
	ProviderSignOutURL(r *http.Request) string
}

// Flash carries a one-time message across the redirect that follows a save without JavaScript.
type Flash interface {
	AddFlash(w http.ResponseWriter, r *http.Request, value []byte) error
	TakeFlash(w http.ResponseWriter, r *http.Request) []byte
}

// KeptForms carry what a person typed across a new sign-in, to the same person only.
type KeptForms interface {
	KeepFormValues(w http.ResponseWriter, r *http.Request, v url.Values) error
	TakeKeptFormValues(w http.ResponseWriter, r *http.Request) url.Values
}

// RoleNotes remember, on the person's browser, that Partner Center refused their save for their
// role, so that the page shows the values read-only rather than a form that cannot succeed.
type RoleNotes interface {
	RememberRoleRefusal(w http.ResponseWriter, r *http.Request) error
	RoleRefused(r *http.Request) bool
	ForgetRoleRefusal(w http.ResponseWriter, r *http.Request)
}

// Locker hands out one lock per key until ctx ends.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Assets gives the URL path (relative to the static mount) of an embedded asset.
type Assets interface {
	Path(name string) string
}

// Handlers holds what every handler needs. Build it with New.
type Handlers struct {
	profiles ProfileService
	users    Users
	tokens   Tokens
	signIn   SignIn
	flash    Flash
	kept     KeptForms
	roles    RoleNotes

	basePath         string // ends in "/"
	assets           struct{ css, js, appJS, favicon string }
	devTools         string
	devNotifications string
	portal           string
	secure           bool // cookies set here are Secure (the public URL is https)
	catalog          *i18n.Catalog
	log              *slog.Logger
	audit            *slog.Logger

	tenantLocks    Locker    // one save at a time per partner tenant: check, then PUT
	throttles      throttles // until when Partner Center asked each partner to wait
	tenantLockWait time.Duration
	deadline       time.Duration // a page or a save is answered within this (RequestDeadline)
	submissions    submissions
	observeSave    SaveObserver // nil: saves are not counted

	history               History              // nil: no change history is kept (some tests)
	observeHistoryFailure HistoryWriteObserver // nil: failed history writes are only logged
	exports               exportSlots          // the history exports running
	exportWriteDeadline   time.Duration        // exportWriteTimeout; tests shorten it

	organizations *organizations // the partners' company names and countries, as this process knows them
	watch         *watching      // the watch of changes made outside the app (watch.go); nil: none
}

// Options configure New. cmd/web passes the one auth.Manager as Users, Tokens, SignIn, Flash and
// Kept; tests pass fakes of what they exercise.
type Options struct {
	Profiles         ProfileService
	Users            Users
	Tokens           Tokens
	SignIn           SignIn
	Flash            Flash
	Kept             KeptForms
	Roles            RoleNotes
	Assets           Assets
	BasePath         string // the public path prefix, ending in "/"
	DevTools         string // only with --dev: URL of the emulator's fault injection page
	DevNotifications string // only with --dev: URL of the page listing the notifications the dev receiver got
	Portal           string // Partner Center's own page for the same settings, linked from every page
	Secure           bool   // the public URL is https: cookies set by the handlers are Secure
	Logger           *slog.Logger
	Audit            *slog.Logger // where the save audit trail goes; default: Logger
	// SaveLocker serialises the saves of one partner tenant (the check, then the PUT). Default:
	// within this process; behind several replicas pass one shared by all (Redis).
	SaveLocker Locker
	// ObserveSave, optional, is told the outcome of every save attempt (cmd/web counts them).
	ObserveSave SaveObserver
	// History keeps the change history of each partner tenant; nil keeps none (no history page,
	// no line under the form).
	History History
	// ObserveHistoryFailure, optional, is told of every history write that failed.
	ObserveHistoryFailure HistoryWriteObserver
	// RequestDeadline is how long a page or a save may take in all, Partner Center's calls,
	// their retries and the wait for other saves included: the app answers in its own words
	// before a reverse proxy gives up. Default 25 s.
	RequestDeadline time.Duration
	// Organizations, optional, gives each partner's organization profile: the company's name in
	// the header, its country for telephone numbers. nil: the header shows the tenant id.
	Organizations OrganizationService
	// Watches, WatchTokens, WatchSeal and WatchInterval, all set, let an admin start the watch
	// of changes made outside the app on the profile page (watch.go); otherwise it is not shown.
	Watches       Watches
	WatchTokens   WatchTokens
	WatchSeal     TokenSealer
	WatchInterval time.Duration
}

// New returns the handlers.
func New(o Options) *Handlers {
	h := &Handlers{profiles: o.Profiles, users: o.Users, tokens: o.Tokens, signIn: o.SignIn, flash: o.Flash, kept: o.Kept, roles: o.Roles,
		basePath: o.BasePath, devTools: o.DevTools, devNotifications: o.DevNotifications, portal: o.Portal, secure: o.Secure,
		catalog: i18n.Default(), log: o.Logger, audit: o.Audit, tenantLocks: o.SaveLocker, tenantLockWait: tenantLockWait,
		observeSave: o.ObserveSave, history: o.History, observeHistoryFailure: o.ObserveHistoryFailure,
		exportWriteDeadline: exportWriteTimeout}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.organizations = newOrganizations(o.Organizations, h.log)
	h.watch = newWatching(o)
	if h.audit == nil {
		h.audit = h.log
	}
	if h.tenantLocks == nil {
		h.tenantLocks = &keyedlock.Locks{}
	}
	if h.deadline = o.RequestDeadline; h.deadline == 0 {
		h.deadline = defaultRequestDeadline
	}
	static := o.BasePath + "static/"
	h.assets.css = static + o.Assets.Path("app.css")
	h.assets.js = static + o.Assets.Path("htmx.min.js")
	h.assets.appJS = static + o.Assets.Path("app.js")
	h.assets.favicon = static + o.Assets.Path("favicon.svg")
	return h
}

const userKey = "user"

// requireUser lets signed-in people through and sends everyone else to sign in, coming back to
// the page they asked for (the save handles an ended session itself, keeping what was typed).
func (h *Handlers) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := h.users.CurrentUser(c.Request())
		switch {
		case errors.Is(err, sessionstore.ErrUnavailable):
			return err // not signed out: the error page says to try again shortly
		case err != nil:
			target := c.Request().URL.RequestURI()
			if c.Request().Method != http.MethodGet {
				target = h.basePath
			}
			return h.redirectToSignIn(c, target, false)
		}
		c.Set(userKey, u)
		return next(c)
	}
}

// signInURL starts a sign-in that comes back to returnTo.
func (h *Handlers) signInURL(returnTo string, mfa bool) string {
	q := url.Values{"next": {returnTo}}
	if mfa {
		q.Set("mfa", "1")
	}
	return h.basePath + "auth/signin?" + q.Encode()
}

func (h *Handlers) redirectToSignIn(c echo.Context, returnTo string, mfa bool) error {
	to := h.signInURL(returnTo, mfa)
	if isHTMX(c) {
		// htmx follows a plain redirect with XHR, which cannot leave for the sign-in provider.
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// isHTMX reports a request made by htmx for a fragment (not a boosted page load).
func isHTMX(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true"
}

func currentUser(c echo.Context) auth.User {
	u, _ := c.Get(userKey).(auth.User)
	return u
}

// CompanyName is the partner's company name as this process knows it, or "" before Partner Center
// has told it; notifications name the company with it.
func (h *Handlers) CompanyName(tenantID string) string {
	org, _ := h.organizations.lookup(tenantID)
	return org.CompanyName
}

// page fills what every full page needs.
func (h *Handlers) page(c echo.Context, title string) views.Page {
	p := views.Page{Title: title, BasePath: h.basePath, CSS: h.assets.css, JS: h.assets.js, AppJS: h.assets.appJS, Favicon: h.assets.favicon,
		CSRFToken: csrfToken(c), DevTools: h.devTools, DevNotifications: h.devNotifications, Portal: h.portal, Languages: h.languageLinks(c)}
	if u, ok := c.Get(userKey).(auth.User); ok {
		p.User = &views.User{Name: u.DisplayName(), Username: u.Username, TenantID: u.TenantID}
		if org, known := h.organizations.lookup(u.TenantID); known {
			p.User.Company, p.User.Domain = org.CompanyName, org.Domain
		}
	}
	return p
}

// render writes a component with the status chosen by the handler; rendering into a buffer first
// means a template error never leaves half a page behind.
func render(c echo.Context, status int, comp templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledRender {
			renderBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes()) // written (or copied by the compressor) before it returns
}

// renderBuffers are reused, so that a page does not grow a new buffer from nothing each time; a
// buffer that grew past maxPooledRender (a long history page) is dropped instead of kept.
var renderBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 16<<10)) }}

const maxPooledRender = 256 << 10

// logger is the handlers' logger with the request id (set by the request-id middleware), so that
// every record of one request can be found together.
func (h *Handlers) logger(c echo.Context) *slog.Logger {
	return withRequestID(c, h.log)
}

func (h *Handlers) auditLog(c echo.Context) *slog.Logger {
	return withRequestID(c, h.audit)
}

func withRequestID(c echo.Context, l *slog.Logger) *slog.Logger {
	if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
		return l.With("request_id", id)
	}
	return l
}
