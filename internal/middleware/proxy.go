package middleware

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// proxyHeaders describe the original request, as a reverse proxy saw it. From a peer that is not
// a trusted proxy they are whatever the client chose to send, so they are removed.
var proxyHeaders = []string{
	echo.HeaderXForwardedFor, echo.HeaderXForwardedProto, "X-Forwarded-Host", "X-Forwarded-Prefix",
	echo.HeaderXForwardedProtocol, echo.HeaderXForwardedSsl, echo.HeaderXUrlScheme, echo.HeaderXRealIP,
	"Forwarded", echo.HeaderXRequestID,
}

// TrustProxies makes e believe forwarded headers, and the SSO proxy's identity header, only from
// the trusted networks: the client address is the nearest untrusted one in X-Forwarded-For, and
// the headers are dropped before routing when the peer is anyone else.
func TrustProxies(e *echo.Echo, trusted []*net.IPNet, identityHeader string) {
	// Echo trusts loopback, link-local and private addresses by default; here only what is configured.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)

	drop := slices.Clone(proxyHeaders)
	if identityHeader != "" {
		drop = append(drop, identityHeader)
	}
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !fromTrustedProxy(c.Request(), trusted) {
				for _, h := range drop {
					c.Request().Header.Del(h)
				}
			}
			return next(c)
		}
	})
}

func fromTrustedProxy(r *http.Request, trusted []*net.IPNet) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && slices.ContainsFunc(trusted, func(n *net.IPNet) bool { return n.Contains(ip) })
}

// RestorePrefix runs after routing when the proxy strips the public path prefix: it puts the
// prefix back on the request's URL, so that the handlers, the logs and the static files see the
// path the browser asked for and every URL built from the request keeps the prefix.
func RestorePrefix(basePath string) echo.MiddlewareFunc {
	prefix := strings.TrimSuffix(basePath, "/")
	escaped := strings.TrimSuffix((&url.URL{Path: basePath}).EscapedPath(), "/")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request().WithContext(c.Request().Context()) // a shallow copy
			u := *r.URL
			u.Path = prefix + u.Path
			if u.RawPath != "" {
				u.RawPath = escaped + u.RawPath
			}
			r.URL = &u
			c.SetRequest(r)
			return next(c)
		}
	}
}
