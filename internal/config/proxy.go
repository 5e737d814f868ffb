package config

import (
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// proxySettings reads what the app needs to know about the reverse proxy in front of it.
func (c *Config) proxySettings(r *raw, bad func(string, ...any)) {
	strips, err := strconv.ParseBool(or(r.stripsPrefix, "false"))
	if err != nil {
		bad("PCS_PROXY_STRIPS_PREFIX %q must be true or false", r.stripsPrefix)
	}
	c.ProxyStripsPrefix = strips
	c.RoutePrefix = routePrefix(c.BasePath, strips)

	for _, f := range strings.FieldsFunc(r.trustedProxies, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := parseNetwork(f)
		if err != nil {
			bad("PCS_TRUSTED_PROXIES: %q is neither a network such as 10.0.0.0/8 nor an address", f)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}

	if h := strings.TrimSpace(r.identityHeader); h != "" {
		switch {
		case !validHeaderName(h):
			bad("PCS_IDENTITY_HEADER %q is not a header name such as X-Forwarded-Email", h)
		case len(c.TrustedProxies) == 0:
			bad("PCS_IDENTITY_HEADER needs PCS_TRUSTED_PROXIES: the header is believed only from the proxies named there")
		default:
			c.IdentityHeader = textproto.CanonicalMIMEHeaderKey(h)
		}
	}
}

// routePrefix is where routes are mounted. When the proxy strips the public path prefix, requests
// arrive at "/..." while the browser keeps seeing basePath.
func routePrefix(basePath string, proxyStrips bool) string {
	if proxyStrips || basePath == "" {
		return "/"
	}
	return basePath
}

// parseNetwork reads a CIDR network, or a single address as a network of one.
func parseNetwork(s string) (*net.IPNet, error) {
	if _, n, err := net.ParseCIDR(s); err == nil {
		return n, nil
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("not a network: %q", s)
	}
	bits := 128
	if ip4 := ip.To4(); ip4 != nil {
		ip, bits = ip4, 32
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
}

func validHeaderName(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// boolString is a flag that needs no value (--name means true) but stores text, like every
// other setting, so that flags and environment variables go through one validation.
type boolString struct{ dest *string }

func (b boolString) String() string {
	if b.dest == nil {
		return ""
	}
	return *b.dest
}

func (b boolString) Set(s string) error {
	if _, err := strconv.ParseBool(s); err != nil {
		return fmt.Errorf("want true or false")
	}
	*b.dest = s
	return nil
}

func (boolString) IsBoolFlag() bool { return true }

// HealthURL is the address of the app's liveness endpoint as seen from inside its container,
// from the environment alone (PCS_LISTEN, PCS_PUBLIC_URL, PCS_PROXY_STRIPS_PREFIX): the image's
// HEALTHCHECK runs `web healthcheck` with the container's environment and no flags.
func HealthURL(getenv func(string) string) (string, error) {
	listen := or(getenv("PCS_LISTEN"), ":8080")
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return "", fmt.Errorf("PCS_LISTEN %q is not host:port", listen)
	}
	basePath := "/"
	if raw := getenv("PCS_PUBLIC_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("PCS_PUBLIC_URL %q is not a URL", raw)
		}
		basePath = u.Path
		if !strings.HasSuffix(basePath, "/") {
			basePath += "/"
		}
	}
	strips, err := strconv.ParseBool(or(getenv("PCS_PROXY_STRIPS_PREFIX"), "false"))
	if err != nil {
		return "", fmt.Errorf("PCS_PROXY_STRIPS_PREFIX %q must be true or false", getenv("PCS_PROXY_STRIPS_PREFIX"))
	}
	u := url.URL{Scheme: "http", Host: loopbackHostPort(listen), Path: routePrefix(basePath, strips) + "healthz"}
	return u.String(), nil
}
