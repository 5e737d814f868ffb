package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/i18n"
	"pcsupport/internal/views"
)

// Watches keep the watch of changes made outside the app (internal/history's Store has them).
type Watches interface {
	Watch(ctx context.Context, tenantID string) (history.Watch, bool, error)
	StartWatch(ctx context.Context, w history.Watch) error
	EndWatch(ctx context.Context, tenantID string) error
}

// WatchTokens hand the signed-in person's refresh token over to a watch (auth.Manager).
type WatchTokens interface {
	HandOverRefreshToken(w http.ResponseWriter, r *http.Request) (string, error)
}

// TokenSealer seals the token a watch keeps (auth.TokenSeal).
type TokenSealer interface {
	Seal(tenantID, token string) (string, error)
}

// watching is what the handlers need for the watch; nil when no watch can be kept.
type watching struct {
	store    Watches
	tokens   WatchTokens
	seal     TokenSealer
	interval time.Duration
}

func newWatching(o Options) *watching {
	if o.Watches == nil || o.WatchTokens == nil || o.WatchSeal == nil || o.WatchInterval <= 0 {
		return nil
	}
	return &watching{store: o.Watches, tokens: o.WatchTokens, seal: o.WatchSeal, interval: o.WatchInterval}
}

// mayWatch says whether the signed-in person may start or stop the watch: anyone whose save
// is not known to be refused for their role (see role.go), with MFA when the token says how
// they signed in.
func (h *Handlers) mayWatch(c echo.Context) bool {
	u := currentUser(c)
	if u.MFAMissing() || historyTenant(u) == "" {
		return false
	}
	return u.GlobalAdministrator() || h.roles == nil || !h.roles.RoleRefused(c.Request())
}

// watchPanel is the watch's part of the profile page; nil when no watch can be kept.
func (h *Handlers) watchPanel(c echo.Context) *views.WatchPanel {
	tenant := historyTenant(currentUser(c))
	if h.watch == nil || tenant == "" {
		return nil
	}
	l := h.loc(c)
	p := &views.WatchPanel{Title: l.T("watch.title")}
	ctx, cancel := context.WithTimeout(c.Request().Context(), historyTimeout)
	defer cancel()
	w, found, err := h.watch.store.Watch(ctx, tenant)
	if err != nil {
		h.logger(c).Warn("the watch is not readable", "tenant_id", tenant, "err", err)
		p.Lines = []string{l.T("watch.unavailable")}
		return p
	}
	every := interval(h.watch.interval)
	may := h.mayWatch(c)
	form := func(stop bool) *views.WatchForm {
		if !may {
			return nil
		}
		if stop {
			return &views.WatchForm{Action: h.basePath + "watch/stop", CSRFToken: csrfToken(c), Label: l.T("watch.stop"), Stop: true}
		}
		return &views.WatchForm{Action: h.basePath + "watch/start", CSRFToken: csrfToken(c), Label: l.T("watch.start")}
	}
	switch {
	case found && w.Active:
		p.Lines = []string{l.T("watch.on", "Interval", every), l.T("watch.startedBy", "Name", personName(w.StartedBy), "When", fullTime(l, w.StartedAt))}
		if w.LastReadAt.IsZero() {
			p.Lines = append(p.Lines, l.T("watch.notReadYet", "Interval", every))
		} else {
			p.Lines = append(p.Lines, l.T("watch.lastRead", "When", fullTime(l, w.LastReadAt)))
		}
		p.Form = form(true)
		if p.Form != nil {
			p.Note = l.T("watch.stopNote")
		}
	default:
		if found { // stopped: the provider refused its token
			p.Stopped = &views.Notice{Kind: views.NoticeError, Title: l.T("watch.stopped.title"), Lines: []string{
				l.T("watch.stopped.line", "When", fullTime(l, w.StoppedAt), "Name", personName(w.StartedBy), "Reason", w.StopReason),
				l.T("watch.stopped.again")}}
		}
		p.Lines = []string{l.T("watch.off", "Interval", every)}
		p.Form = form(false)
		if p.Form != nil {
			p.Note = l.T("watch.startNote")
		}
	}
	if !may {
		p.Note = l.T("watch.notAllowed")
	}
	return p
}

// interval is a watch interval as people read it: "15 min", "1 h 30 min", "1 s".
func interval(d time.Duration) string {
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			parts = append(parts, strconv.Itoa(int(n))+"\u00a0"+u.name)
			d -= n * u.d
		}
	}
	if len(parts) == 0 {
		return "1\u00a0s"
	}
	return strings.Join(parts, " ")
}

// startWatch starts the watch of the person's tenant with their sign-in, replacing any earlier.
func (h *Handlers) startWatch(c echo.Context) error {
	u, l := currentUser(c), h.loc(c)
	tenant := historyTenant(u)
	if !h.mayWatch(c) {
		return h.watchMessage(c, http.StatusForbidden, l, "watch.notAllowed")
	}
	refresh, err := h.watch.tokens.HandOverRefreshToken(c.Response(), c.Request())
	switch {
	case errors.Is(err, auth.ErrSignInRequired) || errors.Is(err, auth.ErrNotSignedIn):
		h.logger(c).Info("watch not started: sign-in required", "user", u.Username, "err", err)
		return h.redirectToSignIn(c, h.basePath, false)
	case err != nil:
		h.logger(c).Warn("watch not started: the sign-in provider did not renew the token", "user", u.Username, "err", err)
		return h.watchMessage(c, http.StatusServiceUnavailable, l, "watch.providerDown")
	}
	sealed, err := h.watch.seal.Seal(tenant, refresh)
	if err != nil {
		return err
	}
	ctx, cancel := historyContext(c.Request().Context())
	defer cancel()
	err = h.watch.store.StartWatch(ctx, history.Watch{TenantID: tenant, StartedAt: time.Now(), Active: true, Token: sealed,
		StartedBy: history.Person{ObjectID: u.ObjectID, Name: u.Name, Username: u.Username}})
	if err != nil {
		h.logger(c).Error("watch not started: the history store refused it", "tenant_id", tenant, "err", err)
		return h.watchMessage(c, http.StatusServiceUnavailable, l, "watch.unavailable")
	}
	h.auditLog(c).Info("watch started", "tenant_id", tenant, "user", u.Username, "interval", h.watch.interval)
	return c.Redirect(http.StatusSeeOther, h.basePath+"#watch")
}

// stopWatch stops the watch of the person's tenant and deletes its token.
func (h *Handlers) stopWatch(c echo.Context) error {
	u, l := currentUser(c), h.loc(c)
	tenant := historyTenant(u)
	if !h.mayWatch(c) {
		return h.watchMessage(c, http.StatusForbidden, l, "watch.notAllowed")
	}
	ctx, cancel := historyContext(c.Request().Context())
	defer cancel()
	if err := h.watch.store.EndWatch(ctx, tenant); err != nil {
		h.logger(c).Error("watch not stopped: the history store refused it", "tenant_id", tenant, "err", err)
		return h.watchMessage(c, http.StatusServiceUnavailable, l, "watch.unavailable")
	}
	h.auditLog(c).Info("watch stopped", "tenant_id", tenant, "user", u.Username)
	return c.Redirect(http.StatusSeeOther, h.basePath+"#watch")
}

// watchMessage is a page saying why the watch was not started or stopped, with the way back.
func (h *Handlers) watchMessage(c echo.Context, status int, l *i18n.Localizer, key string) error {
	vm := views.MessagePage{Page: h.page(c, l.T("watch.title")),
		Notice:  views.Notice{Kind: views.NoticeError, Title: l.T("watch.title"), Lines: []string{l.T(key)}},
		Actions: []views.Action{{Label: l.T("history.back"), URL: h.basePath}}}
	return render(c, status, views.MessagePageView(vm))
}
