package handlers

import (
	"github.com/labstack/echo/v4"

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

func (u upstreamCalls) withSilentRefresh(o pcclient.CallOptions, call func(pcclient.CallOptions) (pcclient.Profile, error)) (pcclient.Profile, error) {
	p, err := call(o)
	if pcclient.KindOf(err) != pcclient.KindUnauthenticated {
		return p, err
	}
	used, terr := o.Token.Token()
	if terr != nil {
		return p, err
	}
	if rerr := u.h.tokens.RefreshAfterRejection(u.c.Response(), u.c.Request(), used.AccessToken); rerr != nil {
		u.h.logger(u.c).Info("silent refresh after a refused token failed", "err", rerr)
		return p, rerr
	}
	return call(o)
}
