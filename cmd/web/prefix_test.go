package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

const testPrefix = "/partner/support/"

// The whole path, sign-in to saved, at https://tools.example.com/partner/support/-style URLs:
// once with the proxy passing the prefix on, once with the proxy stripping it. Every URL the
// browser is given (links, form actions, htmx URLs, assets, redirects, the OAuth redirect URI,
// cookie paths, error pages) carries the prefix.
func TestWholePathUnderAPrefix(t *testing.T) {
	t.Parallel()
	for _, strip := range []bool{false, true} {
		name := map[bool]string{false: "proxy passes the prefix on", true: "proxy strips the prefix"}[strip]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app, _ := startUnderPrefix(t, strip)
			if !strings.HasSuffix(app.url, testPrefix) {
				t.Fatalf("public URL %s has no prefix", app.url)
			}
			b := newBrowser(t)
			cookies := &cookieRecorder{next: http.DefaultTransport}
			b.client.Transport = cookies

			// The redirect URI sent to the provider carries the prefix.
			resp, err := noRedirect(nil).Get(app.url + "auth/signin")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if got := loc.Query().Get("redirect_uri"); got != app.url+"auth/callback" {
				t.Errorf("redirect_uri = %q, want %q", got, app.url+"auth/callback")
			}

			// A bookmarked URL under the prefix comes back after sign-in.
			resp, doc := b.signInAt(app, app.url+"?from=bookmark", "admin")
			if got := resp.Request.URL.String(); got != app.url+"?from=bookmark" {
				t.Fatalf("after sign-in landed on %s", got)
			}
			checkURLsKeepPrefix(t, "profile page", doc, app.url)
			if got := doc.Find("#profile form").AttrOr("hx-post", ""); got != testPrefix+"save" {
				t.Errorf("hx-post = %q", got)
			}
			for _, sel := range []string{`link[rel="stylesheet"]`, `link[rel="icon"]`, `script[src]`} {
				s := doc.Find(sel).First()
				asset := s.AttrOr("href", s.AttrOr("src", ""))
				resp, _ := b.get(resolve(app.url, asset))
				if resp.StatusCode != http.StatusOK {
					t.Errorf("asset %s: %d", asset, resp.StatusCode)
				}
			}

			// Save without JavaScript: 303 to the page under the prefix, with the message.
			form := formValues(doc)
			form.Set("telephone", "+33 1 23 45 67 89")
			resp, doc = b.post(app.url+"save", form)
			if resp.Request.URL.String() != app.url || !strings.Contains(text(doc.Find(`#notice[role="status"]`)), "Saved") {
				t.Fatalf("save: %d at %s:\n%s", resp.StatusCode, resp.Request.URL, html(doc))
			}
			if _, tel, _ := app.dev.emu.Profile(devidp.TenantID); tel != "+33 1 23 45 67 89" {
				t.Errorf("emulator holds telephone %q", tel)
			}
			checkURLsKeepPrefix(t, "page after saving", doc, app.url)

			// Save with htmx: the fragment's URLs carry the prefix too.
			form = formValues(doc)
			form.Set("website", "https://help.contoso-partner.example")
			resp, frag := b.post(app.url+"save", form, "HX-Request", "true")
			if resp.StatusCode != http.StatusOK || !strings.Contains(text(frag.Find("#notice")), "Saved") {
				t.Errorf("htmx save: %d %q", resp.StatusCode, text(frag.Find("#notice")))
			}
			checkURLsKeepPrefix(t, "htmx fragment", frag, app.url)

			// A failed load offers "Try again" at the URL the browser asked for.
			app.dev.emu.InjectFaults(pcemu.Fault{Method: http.MethodGet, Status: http.StatusNotFound})
			resp, doc = b.get(app.url + "?after=fault")
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("failed load answered %d", resp.StatusCode)
			}
			if doc.Find(`a[href="`+testPrefix+`?after=fault"]`).Length() != 1 {
				t.Errorf("no Try again link to %s?after=fault:\n%s", testPrefix, html(doc))
			}
			checkURLsKeepPrefix(t, "failed load", doc, app.url)

			// The error page of an unknown URL under the prefix.
			resp, doc = b.get(app.url + "no-such-page")
			if resp.StatusCode != http.StatusNotFound || doc.Find(`a[href="`+testPrefix+`"]`).Length() == 0 {
				t.Errorf("404 page: %d\n%s", resp.StatusCode, html(doc))
			}
			checkURLsKeepPrefix(t, "404 page", doc, app.url)

			// Sign out: the form posts under the prefix and lands under it.
			token := doc.Find(`header form input[name="_csrf"]`).AttrOr("value", "")
			if token == "" {
				_, page := b.get(app.url)
				token = page.Find(`header form input[name="_csrf"]`).AttrOr("value", "")
			}
			resp, doc = b.post(app.url+"auth/signout", url.Values{"_csrf": {token}})
			if resp.Request.URL.String() != app.url+"auth/signed-out" {
				t.Errorf("sign-out landed on %s (%d)", resp.Request.URL, resp.StatusCode)
			}
			checkURLsKeepPrefix(t, "signed-out page", doc, app.url)

			// Every cookie the app set is scoped to the prefix (a pending sign-in's to its routes).
			for _, c := range cookies.all() {
				want := testPrefix
				if strings.HasPrefix(c.Name, "pcs_signin_") {
					want = testPrefix + "auth/"
				}
				if strings.HasPrefix(c.Name, "pcs_") && c.Path != want {
					t.Errorf("cookie %s has path %q, want %q", c.Name, c.Path, want)
				}
			}
			if len(cookies.all()) == 0 {
				t.Error("no cookies seen")
			}

			// Probes and metrics need no session, at the public URL and where the routes are.
			direct := "http://" + app.addr + app.cfg.RoutePrefix
			for _, u := range []string{app.url + "healthz", app.url + "readyz", app.url + "metrics", direct + "healthz", direct + "readyz"} {
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d", u, resp.StatusCode)
				}
			}
		})
	}
}

// When the sign-in provider cannot be reached, the page that says so, and its "Try again" link,
// stay under the prefix, and /readyz says the app is not ready.
func TestSignInUnavailableUnderAPrefix(t *testing.T) {
	t.Parallel()
	for _, strip := range []bool{false, true} {
		app, _ := startUnderPrefix(t, strip)
		app.dev.StopProvider() // before anyone signed in
		resp, doc := newBrowser(t).get(app.url + "auth/signin?next=" + url.QueryEscape(testPrefix+"?x=1"))
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("strip=%v: sign-in with the provider down answered %d", strip, resp.StatusCode)
		}
		if doc.Find(`a[href^="`+testPrefix+`auth/signin?next="]`).Length() != 1 {
			t.Errorf("strip=%v: no Try again link under the prefix:\n%s", strip, html(doc))
		}
		checkURLsKeepPrefix(t, "sign-in unavailable", doc, app.url)
		resp, err := http.Get(app.url + "readyz")
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "sign-in provider: not ready") ||
			!strings.Contains(body, "session store: ok") {
			t.Errorf("strip=%v: readyz %d %q", strip, resp.StatusCode, body)
		}
	}
}

// startUnderPrefix runs the app at a public URL ending in testPrefix: directly, or behind a proxy
// that strips the prefix (the proxy's URL is then the public URL).
func startUnderPrefix(t *testing.T, strip bool, extra ...string) (*testApp, *frontProxy) {
	t.Helper()
	if !strip {
		return startApp(t, append([]string{"--public-url", "http://127.0.0.1:0" + testPrefix}, extra...)...), nil
	}
	p := startFrontProxy(t, testPrefix, true)
	app := startApp(t, append([]string{"--public-url", p.URL + testPrefix, "--proxy-strips-prefix"}, extra...)...)
	p.forwardTo(app.addr)
	return app, p
}

// frontProxy plays the company's reverse proxy: it serves the public prefix, strips it when told,
// sets X-Forwarded-For/-Proto/-Host, and the identity header an SSO proxy adds.
type frontProxy struct {
	*httptest.Server
	prefix   string
	strip    bool
	target   atomic.Pointer[url.URL]
	identity atomic.Pointer[string]
}

const identityHeader = "X-Forwarded-Email"

func startFrontProxy(t *testing.T, prefix string, strip bool) *frontProxy {
	p := &frontProxy{prefix: prefix, strip: strip}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(p.target.Load())
		pr.SetXForwarded()
		if p.strip {
			pr.Out.URL.Path = "/" + strings.TrimPrefix(pr.In.URL.Path, p.prefix)
			pr.Out.URL.RawPath = ""
		}
		pr.Out.Header.Del(identityHeader) // what the browser sent is never passed on
		if id := p.identity.Load(); id != nil && *id != "" {
			pr.Out.Header.Set(identityHeader, *id)
		}
	}}
	mux := http.NewServeMux()
	mux.Handle(prefix, rp)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *frontProxy) forwardTo(addr string) { p.target.Store(&url.URL{Scheme: "http", Host: addr}) }
func (p *frontProxy) signedIn(who string)   { p.identity.Store(&who) }

// checkURLsKeepPrefix fails for any URL in doc, pointing at the app, that is not under its
// public URL (absolute links elsewhere, such as the dev banner's emulator link, are fine).
func checkURLsKeepPrefix(t *testing.T, where string, doc *goquery.Document, publicURL string) {
	t.Helper()
	public, _ := url.Parse(publicURL)
	n := 0
	for _, attr := range []string{"href", "src", "action", "hx-post", "hx-get", "hx-put", "hx-delete"} {
		doc.Find("[" + attr + "]").Each(func(_ int, s *goquery.Selection) {
			v := s.AttrOr(attr, "")
			if v == "" || strings.HasPrefix(v, "#") {
				return
			}
			u, err := public.Parse(v)
			if err != nil {
				t.Errorf("%s: %s=%q does not parse", where, attr, v)
				return
			}
			if u.Host != public.Host {
				return
			}
			n++
			if !strings.HasPrefix(u.Path, public.Path) {
				t.Errorf("%s: %s=%q leaves the prefix %s", where, attr, v, public.Path)
			}
		})
	}
	if n == 0 {
		t.Errorf("%s: no URL of the app found to check:\n%s", where, html(doc))
	}
}

func resolve(base, ref string) string {
	b, _ := url.Parse(base)
	u, _ := b.Parse(ref)
	return u.String()
}

// cookieRecorder keeps every cookie the server set, with its attributes.
type cookieRecorder struct {
	next    http.RoundTripper
	mu      sync.Mutex
	cookies []*http.Cookie
}

func (c *cookieRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		c.mu.Lock()
		c.cookies = append(c.cookies, resp.Cookies()...)
		c.mu.Unlock()
	}
	return resp, err
}

func (c *cookieRecorder) all() []*http.Cookie {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*http.Cookie(nil), c.cookies...)
}
