package middleware

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// Forwarded headers and the identity header are believed only from the configured proxy
// networks; from anyone else they are removed before any handler sees them.
func TestForwardedHeadersOnlyFromTrustedProxies(t *testing.T) {
	_, trusted, _ := net.ParseCIDR("10.1.0.0/16")
	e := echo.New()
	TrustProxies(e, []*net.IPNet{trusted}, "X-Forwarded-Email")
	e.GET("/", func(c echo.Context) error {
		h := c.Request().Header
		return c.String(http.StatusOK, strings.Join([]string{c.RealIP(), c.Scheme(), h.Get("X-Forwarded-Host"),
			h.Get("X-Forwarded-Email"), h.Get("X-Real-Ip"), h.Get("Forwarded"), h.Get(echo.HeaderXRequestID)}, "|"))
	})
	spoofed := map[string]string{
		"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
		"X-Forwarded-Email": "boss@contoso.example", "X-Real-Ip": "203.0.113.10", "Forwarded": "for=203.0.113.11",
		"X-Request-Id": "chosen-by-client",
	}
	tests := []struct {
		name, peer, xff, want string
	}{
		{"untrusted peer", "192.0.2.50:4444", "203.0.113.9", "192.0.2.50|http|||||"},
		{"private but unconfigured peer", "10.2.0.1:4444", "203.0.113.9", "10.2.0.1|http|||||"},
		{"loopback is not trusted unless configured", "127.0.0.1:4444", "203.0.113.9", "127.0.0.1|http|||||"},
		{"trusted proxy", "10.1.2.3:4444", "203.0.113.9",
			"203.0.113.9|https|evil.example|boss@contoso.example|203.0.113.10|for=203.0.113.11|chosen-by-client"},
		// The client may prepend anything; the nearest address the trusted proxy did not vouch for wins.
		{"trusted chain", "10.1.2.3:4444", "198.51.100.1, 203.0.113.9, 10.1.9.9", "203.0.113.9|https"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tt.peer
		for k, v := range spoofed {
			req.Header.Set(k, v)
		}
		req.Header.Set("X-Forwarded-For", tt.xff)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if got := rec.Body.String(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Behind a proxy that strips the public prefix, handlers, the log and every URL built from the
// request see the path the browser asked for, escapes included.
func TestRestorePrefix(t *testing.T) {
	for _, tt := range []struct {
		base, asked        string // the base path; the request as the proxy forwards it
		path, escaped, uri string // what the handler sees
	}{
		{"/partner/support/", "/history?page=2", "/partner/support/history", "/partner/support/history", "/partner/support/history?page=2"},
		{"/partner/support/", "/", "/partner/support/", "/partner/support/", "/partner/support/"},
		{"/partner support/", "/files/a%2Fb", "/partner support/files/a/b", "/partner%20support/files/a%2Fb", "/partner%20support/files/a%2Fb"},
	} {
		e := echo.New()
		e.Use(RestorePrefix(tt.base))
		var path, escaped, uri, route string
		handler := func(c echo.Context) error {
			u := c.Request().URL
			path, escaped, uri, route = u.Path, u.EscapedPath(), u.RequestURI(), c.Path()
			return c.NoContent(http.StatusNoContent)
		}
		e.GET("/", handler)
		e.GET("/history", handler)
		e.GET("/files/*", handler)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.asked, nil))
		if rec.Code != http.StatusNoContent || path != tt.path || escaped != tt.escaped || uri != tt.uri {
			t.Errorf("%s under %s: status %d, route %q, path %q, escaped %q, URI %q; want %q, %q, %q",
				tt.asked, tt.base, rec.Code, route, path, escaped, uri, tt.path, tt.escaped, tt.uri)
		}
	}
}
