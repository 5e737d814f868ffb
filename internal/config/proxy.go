package config

import (
	"cmp"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// proxySettings reads what the app needs to know about the reverse proxy in front of it.
func (c *Config) proxySettings(d *declared, bad func(string, ...any)) {
	c.ProxyStripsPrefix = d.stripsPrefix.Bool()
	c.RoutePrefix = routePrefix(c.BasePath, c.ProxyStripsPrefix)

	for _, f := range d.trustedProxies.Values() {
		n, err := parseNetwork(f)
		if err != nil {
			bad("%s: %q is neither a network such as 10.0.0.0/8 nor an address", d.trustedProxies.Name(), f)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}

	if h := strings.TrimSpace(d.identityHeader.Value()); h != "" {
		switch {
		case !validHeaderName(h):
			bad("%s %q is not a header name such as X-Forwarded-Email", d.identityHeader.Name(), h)
		case len(c.TrustedProxies) == 0:
			bad("%s needs %s: the header is believed only from the proxies named there", d.identityHeader.Name(), d.trustedProxies.Name())
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

// HealthURL is the address of the app's liveness endpoint as seen from inside its container,
// from the environment alone (PCS_LISTEN, PCS_PUBLIC_URL, PCS_PROXY_STRIPS_PREFIX): the image's
// HEALTHCHECK runs `web healthcheck` with the container's environment and no flags.
func HealthURL(getenv func(string) string) (string, error) {
	listen := cmp.Or(getenv("PCS_LISTEN"), ":8080")
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
	strips, err := strconv.ParseBool(cmp.Or(getenv("PCS_PROXY_STRIPS_PREFIX"), "false"))
	if err != nil {
		return "", fmt.Errorf("PCS_PROXY_STRIPS_PREFIX %q must be true or false", getenv("PCS_PROXY_STRIPS_PREFIX"))
	}
	u := url.URL{Scheme: "http", Host: loopbackHostPort(listen), Path: routePrefix(basePath, strips) + "healthz"}
	return u.String(), nil
}
