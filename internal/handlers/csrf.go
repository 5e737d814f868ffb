package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

const (
	csrfCookie = "pcs_csrf"
	csrfKey    = "csrf" // where the token is kept in the request's context, for the forms
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
)

// errCSRF marks every refusal of the CSRF check.
var errCSRF = echo.NewHTTPError(http.StatusForbidden, "CSRF check failed")

func isCSRFError(err error) bool { return errors.Is(err, errCSRF) }

// CSRF protects every state-changing request with a double-submit token: the token in the
// pcs_csrf cookie must come back in the form body (a hidden input, so it works without
// JavaScript) or in the X-CSRF-Token header (htmx sends it), and a browser that says the request
// comes from another site (Sec-Fetch-Site) is refused outright. The token is never read from the
// URL, where it would end up in logs and Referer headers; that is why Echo's CSRF middleware,
// which reads form values through FormValue (query string included), is not used.
func CSRF(basePath string, secure bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			token := ""
			if ck, err := r.Cookie(csrfCookie); err == nil && ck.Value != "" {
				token = ck.Value
			}
			if !safeMethod(r.Method) {
				if err := checkCSRF(r, token); err != nil {
					return err
				}
			}
			if token == "" {
				// A browser-session cookie, set once: it lives as long as any sign-in of this
				// browser can, and does not weigh on every answer.
				token = newCSRFToken()
				c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: basePath, HttpOnly: true, Secure: secure,
					SameSite: http.SameSiteLaxMode})
			}
			c.Set(csrfKey, token)
			return next(c)
		}
	}
}

func checkCSRF(r *http.Request, token string) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return errCSRF
	}
	sent := r.Header.Get(csrfHeader)
	if sent == "" {
		if err := r.ParseForm(); err != nil {
			return errCSRF
		}
		sent = r.PostForm.Get(csrfField)
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
		return errCSRF
	}
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

func newCSRFToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(csrfKey).(string)
	return t
}
