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
	h.chooseLanguage(c)
	return c.Redirect(http.StatusSeeOther, auth.SafeReturnTo(h.basePath, c.QueryParam("next")))
}

// switchLanguageKeepingValues is the language switch on the form's page: it submits the form, and
// what was typed is kept for the person (as across a new sign-in) and comes back in the form,
// in the other language, marked as changed. Nothing is saved.
func (h *Handlers) switchLanguageKeepingValues(c echo.Context) error {
	h.chooseLanguage(c)
	f := readProfileForm(c)
	if f.loadedOK && f.typed != f.loaded && withinLimits(f.typed) && withinLimits(f.loaded) {
		kept := url.Values{"email": {f.typed.Email}, "telephone": {f.typed.Telephone}, "website": {f.typed.Website},
			"loaded": {encodeLoaded(f.loaded)}, keptWhy: {keptForLanguage}, restoredFromField: {restoredFromValue(f.restoredFrom)}}
		if err := h.kept.KeepFormValues(c.Response(), c.Request(), kept); err != nil {
			h.logger(c).Info("typed values not kept across the language switch", "err", err)
		}
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", h.basePath) // a page in the other language, not a fragment
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, h.basePath)
}

// chooseLanguage remembers the language the request asks for, when the catalogue has it.
func (h *Handlers) chooseLanguage(c echo.Context) {
	if to := c.QueryParam("to"); h.catalog.Get(to) != nil {
		c.SetCookie(&http.Cookie{Name: languageCookie, Value: to, Path: h.basePath, MaxAge: int((365 * 24 * time.Hour).Seconds()),
			HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	}
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
