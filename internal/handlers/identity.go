package handlers

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
	"pcsupport/internal/logline"
	"pcsupport/internal/views"
)

// The company's SSO proxy may name the person it signed in, in a header (e.g. X-Forwarded-Email).
// cmd/web removes that header from every request that does not come from a trusted proxy, so
// whatever reaches the handlers was set by the proxy.

// LoginHintFrom passes the identity header to every sign-in as login_hint, so that a person
// already signed in to the company does not pick an account again. header "" returns s as is.
func LoginHintFrom(s SignIn, header string) SignIn {
	if header == "" {
		return s
	}
	return loginHintSignIn{SignIn: s, header: header}
}

type loginHintSignIn struct {
	SignIn
	header string
}

func (s loginHintSignIn) StartSignIn(w http.ResponseWriter, r *http.Request, returnTo string, o auth.SignInOptions) (string, error) {
	if o.LoginHint == "" {
		o.LoginHint = strings.TrimSpace(r.Header.Get(s.header))
	}
	return s.SignIn.StartSignIn(w, r, returnTo, o)
}

// justSignedIn is how old a session may be and still count as the sign-in that just happened.
const justSignedIn = time.Minute

// EndSessionOfSomeoneElse ends the session when the identity header names a person other than
// the session's user (the proxy's sign-in changed): the request then goes on as signed out, so
// sign-in starts over, with the header's person as login_hint. A session begun moments ago with
// another account than the header's is ended with an explanation instead: sending the browser
// straight back to sign-in would loop when the two names never match (e.g. the proxy sends the
// mail address and the directory a different user name).
func (h *Handlers) EndSessionOfSomeoneElse(header string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if header == "" {
			return next
		}
		return func(c echo.Context) error {
			named := strings.TrimSpace(c.Request().Header.Get(header))
			if named == "" {
				return next(c)
			}
			u, err := h.users.CurrentUser(c.Request())
			if err != nil || sameIdentity(u, named) {
				return next(c)
			}
			if err := h.signIn.SignOut(c.Response(), c.Request()); err != nil {
				h.logger(c).Error("end the session of another person", "err", err)
				return err
			}
			logline.Add(c.Request().Context(), slog.String("problem", "the SSO proxy names another person than the session's user; session ended"),
				slog.String("session_user", u.Username), logline.Cut("proxy_user", named))
			logline.AtLeast(c.Request().Context(), slog.LevelInfo)
			if time.Since(u.SignedInAt) < justSignedIn {
				l := h.loc(c)
				return h.messagePage(c, http.StatusForbidden, l.T("identity.page"), views.Notice{Kind: views.NoticeError,
					Title: l.T("identity.title"),
					Lines: []string{l.T("identity.line", "Session", u.DisplayName(), "Proxy", named)},
				}, views.Action{Label: l.T("identity.action", "Proxy", named), URL: h.signInURL(h.basePath, false)})
			}
			return next(c)
		}
	}
}

// sameIdentity compares the proxy's name for the person with the session user's user name and
// email, ignoring case. A user with neither cannot be compared and is left alone.
func sameIdentity(u auth.User, named string) bool {
	if u.Username == "" && u.Email == "" {
		return true
	}
	return strings.EqualFold(named, u.Username) || strings.EqualFold(named, u.Email)
}
