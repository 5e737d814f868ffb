package handlers

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
	"pcsupport/internal/i18n"
	"pcsupport/internal/views"
)

const (
	languageCookie = "pcs_lang"
	localizerKey   = "localizer"
)

// localize picks the request's language (the person's choice, else Accept-Language) and puts it
// where handlers (loc) and views (the request context) find it.
func (h *Handlers) localize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		choice := ""
		if ck, err := c.Cookie(languageCookie); err == nil {
			choice = ck.Value
		}
		l := h.catalog.Pick(choice, c.Request().Header.Get("Accept-Language"))
		c.Set(localizerKey, l)
		c.SetRequest(c.Request().WithContext(i18n.WithLocalizer(c.Request().Context(), l)))
		c.Response().Header().Add("Vary", "Accept-Language")
		return next(c)
	}
}

// loc is the request's localizer. Requests that matched no route never ran the middleware, so
// the choice is made here for them.
func (h *Handlers) loc(c echo.Context) *i18n.Localizer {
	if l, ok := c.Get(localizerKey).(*i18n.Localizer); ok {
		return l
	}
	choice := ""
	if ck, err := c.Cookie(languageCookie); err == nil {
		choice = ck.Value
	}
	return h.catalog.Pick(choice, c.Request().Header.Get("Accept-Language"))
}

// switchLanguage remembers the chosen language for a year and goes back to the page.
func (h *Handlers) switchLanguage(c echo.Context) error {
	to := c.QueryParam("to")
	if h.catalog.Get(to) != nil {
		c.SetCookie(&http.Cookie{Name: languageCookie, Value: to, Path: h.basePath, MaxAge: int((365 * 24 * time.Hour).Seconds()),
			HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	}
	return c.Redirect(http.StatusSeeOther, auth.SafeReturnTo(h.basePath, c.QueryParam("next")))
}

// languageLinks are the switch in the page header, each coming back to the current page.
func (h *Handlers) languageLinks(c echo.Context) []views.LanguageLink {
	current := h.loc(c).Code
	here := c.Request().URL.RequestURI()
	if c.Request().Method != http.MethodGet || isHTMX(c) {
		here = h.basePath
	}
	links := make([]views.LanguageLink, 0, len(i18n.Languages))
	for _, l := range i18n.Languages {
		links = append(links, views.LanguageLink{Code: l.Code, Name: l.Name, Current: l.Code == current,
			URL: h.basePath + "lang?" + url.Values{"to": {l.Code}, "next": {here}}.Encode()})
	}
	return links
}
