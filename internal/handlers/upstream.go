package handlers

import (
	"log/slog"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"pcsupport/internal/logline"
	"pcsupport/internal/pcclient"
)

// upstreamCalls are one request's Partner Center calls, made with the person's token and in
// their language. A token Partner Center refuses (401) is renewed once and the call repeated,
// before the person is bothered.
type upstreamCalls struct {
	h *Handlers
	c echo.Context
}

func (h *Handlers) upstream(c echo.Context) upstreamCalls { return upstreamCalls{h, c} }

func (u upstreamCalls) get(correlationID string) (pcclient.Profile, error) {
	return u.withSilentRefresh(u.options(correlationID, ""), func(o pcclient.CallOptions) (pcclient.Profile, error) {
		return u.h.profiles.GetSupportProfile(u.c.Request().Context(), o)
	})
}

func (u upstreamCalls) put(correlationID, requestID string, p pcclient.Profile) (pcclient.Profile, error) {
	return u.withSilentRefresh(u.options(correlationID, requestID), func(o pcclient.CallOptions) (pcclient.Profile, error) {
		return u.h.profiles.UpdateSupportProfile(u.c.Request().Context(), o, p)
	})
}

func (u upstreamCalls) options(correlationID, requestID string) pcclient.CallOptions {
	return pcclient.CallOptions{
		Token:         u.h.tokens.TokenSource(u.c.Response(), u.c.Request()),
		Locale:        u.h.loc(u.c).PCLocale,
		CorrelationID: correlationID,
		RequestID:     requestID,
	}
}

// withSilentRefresh takes the token before the call, so that the one renewed after a 401 is the
// one Partner Center refused, and a refresh refused on the way is always the person's sign-in to
// redo, never Partner Center's 401.
func (u upstreamCalls) withSilentRefresh(o pcclient.CallOptions, call func(pcclient.CallOptions) (pcclient.Profile, error)) (pcclient.Profile, error) {
	source := o.Token
	used, err := source.Token()
	if err != nil {
		return pcclient.Profile{}, err
	}
	o.Token = oauth2.StaticTokenSource(used)
	p, err := call(o)
	if pcclient.KindOf(err) != pcclient.KindUnauthenticated {
		return p, err
	}
	if rerr := u.h.tokens.RefreshAfterRejection(u.c.Response(), u.c.Request(), used.AccessToken); rerr != nil {
		logline.Add(u.c.Request().Context(), slog.String("problem", "silent refresh after a refused token failed"), logline.Err(rerr))
		return p, rerr
	}
	o.Token = source
	return call(o)
}
