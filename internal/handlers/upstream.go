package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"golang.org/x/oauth2"

	"pcsupport/internal/logline"
	"pcsupport/internal/pcclient"
)

// credentials give Partner Center calls the person's access token, and renew it when Partner
// Center refused it.
type credentials interface {
	Token() (*oauth2.Token, error)
	Renew(rejectedAccessToken string) error
}

// sessionCredentials are the signed-in person's tokens, kept in their session (Tokens): a renewed
// token is stored back, hence the request and its response writer.
type sessionCredentials struct {
	tokens Tokens
	w      http.ResponseWriter
	r      *http.Request
}

func (s sessionCredentials) Token() (*oauth2.Token, error) {
	return s.tokens.TokenSource(s.w, s.r).Token()
}

func (s sessionCredentials) Renew(rejected string) error {
	return s.tokens.RefreshAfterRejection(s.w, s.r, rejected)
}

// upstreamCalls are one request's Partner Center calls, made with the person's token and in
// their language. A token Partner Center refuses (401) is renewed once and the call repeated,
// before the person is bothered.
type upstreamCalls struct {
	ctx      context.Context
	profiles ProfileService
	creds    credentials
	locale   string // X-Locale, the person's language
}

func (u upstreamCalls) get(correlationID string) (pcclient.Profile, error) {
	return u.withSilentRefresh(u.options(correlationID, ""), func(o pcclient.CallOptions) (pcclient.Profile, error) {
		return u.profiles.GetSupportProfile(u.ctx, o)
	})
}

func (u upstreamCalls) put(correlationID, requestID string, p pcclient.Profile) (pcclient.Profile, error) {
	return u.withSilentRefresh(u.options(correlationID, requestID), func(o pcclient.CallOptions) (pcclient.Profile, error) {
		return u.profiles.UpdateSupportProfile(u.ctx, o, p)
	})
}

func (u upstreamCalls) options(correlationID, requestID string) pcclient.CallOptions {
	return pcclient.CallOptions{Locale: u.locale, CorrelationID: correlationID, RequestID: requestID}
}

// withSilentRefresh takes the token before the call, so that the one renewed after a 401 is the
// one Partner Center refused, and a refresh refused on the way is always the person's sign-in to
// redo, never Partner Center's 401.
func (u upstreamCalls) withSilentRefresh(o pcclient.CallOptions, call func(pcclient.CallOptions) (pcclient.Profile, error)) (pcclient.Profile, error) {
	used, err := u.creds.Token()
	if err != nil {
		return pcclient.Profile{}, err
	}
	o.Token = oauth2.StaticTokenSource(used)
	p, err := call(o)
	if pcclient.KindOf(err) != pcclient.KindUnauthenticated {
		return p, err
	}
	if rerr := u.creds.Renew(used.AccessToken); rerr != nil {
		logline.Add(u.ctx, slog.String("problem", "silent refresh after a refused token failed"), logline.Err(rerr))
		return p, rerr
	}
	renewed, err := u.creds.Token()
	if err != nil {
		return p, err
	}
	o.Token = oauth2.StaticTokenSource(renewed)
	return call(o)
}
