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
