package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The whole app behind an SSO proxy that names the person in X-Forwarded-Email: the name goes to
// the sign-in provider as login_hint; the same header sent by anyone but the proxy is ignored;
// signing in as someone else than the proxy says ends that session with an explanation, and a
// later change of person ends the session and sign-in starts over.
func TestIdentityHeaderFromTheSSOProxy(t *testing.T) {
	t.Parallel()
	const ada, sam = "Ada.Admin@Contoso-Partner.example", "sam.sales@contoso-partner.example"
	p := startFrontProxy(t, testPrefix, false)
	app := startApp(t, "--public-url", p.URL+testPrefix, "--trusted-proxies", "127.0.0.1/32",
		"--identity-header", "x-forwarded-email")
	p.forwardTo(app.addr)
	p.signedIn(ada)

	if hint := loginHint(t, http.DefaultClient, app.url); hint != ada {
		t.Errorf("login_hint through the proxy = %q, want %q", hint, ada)
	}
	b := newBrowser(t)
	doc := b.signIn(app, "admin") // Ada, whose user name matches ignoring case
	if doc.Find(`input[name="telephone"]`).Length() != 1 {
		t.Fatalf("no form for the person the proxy names:\n%s", html(doc))
	}

	// From 127.0.0.2, not a trusted proxy, the same header is ignored: no login_hint, and naming
	// someone else does not end Ada's session.
	untrusted := fromAddress(t, "127.0.0.2")
	direct := "http://" + app.addr + testPrefix
	if hint := loginHint(t, untrusted, direct, identityHeader, ada); hint != "" {
		t.Errorf("login_hint from an untrusted peer = %q", hint)
	}
	req, _ := http.NewRequest(http.MethodGet, direct, nil)
	req.Header.Set(identityHeader, sam)
	for _, c := range b.client.Jar.Cookies(mustParse(app.url)) {
		req.AddCookie(c)
	}
	resp, err := untrusted.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(readAll(resp), "Ada Admin") {
		t.Fatalf("a spoofed identity header from an untrusted peer changed the answer: %d", resp.StatusCode)
	}

	// The proxy now says Sam (someone else signed in to the company in this browser). Ada's
	// session signed in just now, so she gets an explanation rather than a sign-in loop.
	p.signedIn(sam)
	resp, doc = b.get(app.url)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(text(doc.Find("main")), sam) {
		t.Fatalf("mismatch right after sign-in: %d\n%s", resp.StatusCode, html(doc))
	}
	if hint := loginHint(t, b.client, resolve(app.url, doc.Find(`main a[href*="auth/signin"]`).AttrOr("href", ""))); hint != sam {
		t.Errorf("the offered sign-in hints %q, want %q", hint, sam)
	}
	// The session is over: with no identity header at all the app asks to sign in.
	p.signedIn("")
	resp, _ = noRedirectGet(t, b, app.url)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "auth/signin") {
		t.Errorf("after the mismatch the session still works: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// loginHint starts a sign-in and returns the login_hint the app sent to the provider.
func loginHint(t *testing.T, c *http.Client, publicURL string, header ...string) string {
	t.Helper()
	u := publicURL
	if !strings.Contains(u, "auth/signin") {
		u += "auth/signin"
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := *c
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("sign-in start: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("login_hint")
}

func noRedirectGet(t *testing.T, b *browser, u string) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirect(b.client.Jar).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(resp)
}

// fromAddress is a client whose connections come from the given loopback address.
func fromAddress(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	if c, err := d.Dial("tcp", "127.0.0.1:1"); err != nil && strings.Contains(err.Error(), "assign requested address") {
		t.Skipf("cannot send from %s here: %v", ip, err)
	} else if c != nil {
		c.Close()
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// The client address in the request log comes from X-Forwarded-For only when the peer is one of
// --trusted-proxies; with none configured it is always the connection's peer (Echo v4.16.3 made
// that Echo's own default; the app sets its extractor either way, so both versions agree).
func TestClientIPInTheLogOnlyThroughTrustedProxies(t *testing.T) {
	t.Parallel()
	behind := startApp(t, "--trusted-proxies", "127.0.0.1/32")
	alone := startApp(t)
	tests := []struct {
		name string
		app  *testApp
		from string
		want string
	}{
		{"from the trusted proxy", behind, "127.0.0.1", "203.0.113.9"},
		{"from a peer that is not a trusted proxy", behind, "127.0.0.2", "127.0.0.2"},
		{"no trusted proxies configured", alone, "127.0.0.1", "127.0.0.1"},
	}
	for i, tt := range tests {
		path := fmt.Sprintf("%sno-such-page-%d", "/", i) // a 404 is logged at info
		req, _ := http.NewRequest(http.MethodGet, "http://"+tt.app.addr+path, nil)
		req.Header.Set("X-Forwarded-For", "198.51.100.7, 203.0.113.9")
		req.Header.Set("X-Real-Ip", "198.51.100.8")
		resp, err := fromAddress(t, tt.from).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(resp)
		line := logLineFor(tt.app.logs.String(), "msg=request method=GET path="+path+" ")
		if !strings.Contains(line, "client_ip="+tt.want+" ") && !strings.HasSuffix(line, "client_ip="+tt.want) {
			t.Errorf("%s: the log says %q, want client_ip=%s", tt.name, line, tt.want)
		}
	}
}

// logLineFor returns the first line of logs that contains needle.
func logLineFor(logs, needle string) string {
	for line := range strings.Lines(logs) {
		if strings.Contains(line, needle) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
