package config

import (
	"io"
	"strings"
	"testing"
)

func TestRoutePrefixFollowsTheProxy(t *testing.T) {
	tests := []struct {
		args                  []string
		env                   map[string]string
		base, routes, healthz string
	}{
		{nil, nil, "/partner/support/", "/partner/support/", "http://127.0.0.1:8080/partner/support/healthz"},
		{[]string{"--proxy-strips-prefix"}, nil, "/partner/support/", "/", "http://127.0.0.1:8080/healthz"},
		{[]string{"--proxy-strips-prefix=false"}, map[string]string{"PCS_PROXY_STRIPS_PREFIX": "true"}, "/partner/support/", "/partner/support/", "http://127.0.0.1:8080/partner/support/healthz"},
		{nil, map[string]string{"PCS_PROXY_STRIPS_PREFIX": "1", "PCS_LISTEN": "0.0.0.0:9000"}, "/partner/support/", "/", "http://127.0.0.1:9000/healthz"},
		{nil, map[string]string{"PCS_PUBLIC_URL": "https://support.example.com", "PCS_PROXY_STRIPS_PREFIX": "true"}, "/", "/", "http://127.0.0.1:8080/healthz"},
	}
	for _, tt := range tests {
		e := production()
		for k, v := range tt.env {
			e[k] = v
		}
		c, err := Load(tt.args, env(e), io.Discard)
		if err != nil {
			t.Fatalf("%v %v: %v", tt.args, tt.env, err)
		}
		if c.BasePath != tt.base || c.RoutePrefix != tt.routes {
			t.Errorf("%v %v: base %q routes %q, want %q %q", tt.args, tt.env, c.BasePath, c.RoutePrefix, tt.base, tt.routes)
		}
		if !strings.HasPrefix(c.RedirectURL(), "https://") || !strings.HasSuffix(c.RedirectURL(), tt.base+"auth/callback") {
			t.Errorf("redirect URI %q lost the prefix", c.RedirectURL())
		}
		if tt.args == nil { // the healthcheck reads the environment only
			if got, err := HealthURL(env(e)); err != nil || got != tt.healthz {
				t.Errorf("%v: healthcheck URL %q, %v; want %q", tt.env, got, err, tt.healthz)
			}
		}
	}
	e := production()
	e["PCS_PROXY_STRIPS_PREFIX"] = "sometimes"
	if _, err := Load(nil, env(e), io.Discard); err == nil || !strings.Contains(err.Error(), "PCS_PROXY_STRIPS_PREFIX") {
		t.Errorf("a malformed switch was accepted: %v", err)
	}
	if _, err := HealthURL(env(e)); err == nil {
		t.Error("healthcheck accepted a malformed switch")
	}
}

func TestTrustedProxiesAndIdentityHeader(t *testing.T) {
	e := production()
	e["PCS_TRUSTED_PROXIES"] = "10.0.0.0/8, 192.0.2.7,fd00::/8"
	e["PCS_IDENTITY_HEADER"] = "x-forwarded-email"
	c, err := Load(nil, env(e), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var nets []string
	for _, n := range c.TrustedProxies {
		nets = append(nets, n.String())
	}
	if got := strings.Join(nets, " "); got != "10.0.0.0/8 192.0.2.7/32 fd00::/8" {
		t.Errorf("trusted proxies = %s", got)
	}
	if c.IdentityHeader != "X-Forwarded-Email" {
		t.Errorf("identity header = %q", c.IdentityHeader)
	}

	e = production()
	e["PCS_TRUSTED_PROXIES"] = "10.0.0.0/33,proxy.internal"
	e["PCS_IDENTITY_HEADER"] = "X Email"
	_, err = Load(nil, env(e), io.Discard)
	for _, want := range []string{`"10.0.0.0/33"`, `"proxy.internal"`, "PCS_IDENTITY_HEADER"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}

	// An identity header from anyone would let anyone choose whose session ends.
	e = production()
	e["PCS_IDENTITY_HEADER"] = "X-Forwarded-Email"
	if _, err := Load(nil, env(e), io.Discard); err == nil || !strings.Contains(err.Error(), "PCS_TRUSTED_PROXIES") {
		t.Errorf("identity header without trusted proxies: %v", err)
	}
}

func TestDevPublicURLWithPrefix(t *testing.T) {
	c, err := Load([]string{"--dev", "--public-url", "http://127.0.0.1:9000/prefix/"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:9000" || c.BasePath != "/prefix/" || c.RoutePrefix != "/prefix/" {
		t.Errorf("listen %q base %q routes %q", c.ListenAddr, c.BasePath, c.RoutePrefix)
	}
	c.UseListenerAddr("127.0.0.1:40000") // not derived: stays
	if c.PublicURL.String() != "http://127.0.0.1:9000/prefix/" {
		t.Errorf("public URL moved to %s", c.PublicURL)
	}

	c, err = Load([]string{"--dev", "--listen", "127.0.0.1:0", "--public-url", "http://127.0.0.1:0/prefix/"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.UseListenerAddr("127.0.0.1:40123")
	if c.PublicURL.String() != "http://127.0.0.1:40123/prefix/" || c.RedirectURL() != "http://127.0.0.1:40123/prefix/auth/callback" || c.BasePath != "/prefix/" {
		t.Errorf("after listening: %s, base %q", c.PublicURL, c.BasePath)
	}

	c, err = Load([]string{"--dev", "--listen", "127.0.0.1:8181", "--public-url", "http://127.0.0.1:9000/prefix/"}, env(nil), io.Discard)
	if err != nil || c.ListenAddr != "127.0.0.1:8181" {
		t.Errorf("--listen did not win: %v %v", c, err)
	}
}
