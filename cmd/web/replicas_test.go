package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/securecookie"

	"pcsupport/internal/devidp"
	"pcsupport/internal/devstack"
	"pcsupport/internal/pcemu"
	"pcsupport/internal/testkit"
	"pcsupport/internal/testkit/redistest"
)

// Two replicas of the app in production mode behind one public URL, sharing sessions in Redis:
// sign in through one, save through the other, restart the first and the session survives;
// both keep the session decoded in memory, yet signing out through one ends it on the other at
// the very next request, even for a request that still carries the old cookie.
func TestTwoReplicasShareSessionsInRedis(t *testing.T) {
	t.Parallel()
	rs := startReplicasOnRedis(t, time.Hour)
	lb, site, b := rs.lb, rs.site, newBrowser(t)

	lb.use(0)
	_, doc := b.signInAt(site, site.url, "admin")
	if doc.Find(`input[name="telephone"]`).Length() != 1 {
		t.Fatalf("no profile form after signing in through replica 1:\n%s", html(doc))
	}

	lb.use(1)
	_, doc = b.get(site.url)
	form := formValues(doc)
	if len(form) == 0 {
		t.Fatalf("replica 2 does not know the session replica 1 started:\n%s", html(doc))
	}
	form.Set("telephone", "+44 20 7946 0958")
	resp, doc := b.post(site.url+"save", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(text(doc.Find(`#notice[role="status"]`)), "Saved") {
		t.Fatalf("save through replica 2 answered %d:\n%s", resp.StatusCode, html(doc))
	}
	if _, tel, _ := rs.emu.Profile(devidp.TenantID); tel != "+44 20 7946 0958" {
		t.Errorf("emulator holds telephone %q after saving through replica 2", tel)
	}
	if lb.served(0) == 0 || lb.served(1) == 0 {
		t.Errorf("requests served: replica 1 %d, replica 2 %d; want both", lb.served(0), lb.served(1))
	}

	rs.replicas[0].stop()
	rs.replicas[0] = startReplica(t, rs.args...)
	lb.route(0, rs.replicas[0])
	lb.use(0)
	_, doc = b.get(site.url)
	if got := doc.Find(`input[name="telephone"]`).AttrOr("value", ""); got != "+44 20 7946 0958" {
		t.Fatalf("after restarting replica 1 the page shows telephone %q, want the saved value:\n%s", got, html(doc))
	}

	var session string
	for _, c := range b.client.Jar.Cookies(mustParse(site.url)) {
		if c.Name == "pcs_session" {
			session = c.Value
		}
	}
	lb.use(1)
	if resp := withSessionCookie(t, site, session); resp.StatusCode != http.StatusOK {
		t.Fatalf("replica 2 with the session cookie: %d", resp.StatusCode)
	}
	lb.use(0)
	_, doc = b.get(site.url)
	b.post(site.url+"auth/signout", url.Values{"_csrf": {doc.Find(`header input[name="_csrf"]`).AttrOr("value", "")}})
	lb.use(1)
	if resp := withSessionCookie(t, site, session); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "auth/signin") {
		t.Errorf("after signing out through replica 1, replica 2 answers the old session cookie with %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// When both replicas refresh a session's token at once, the provider sees one refresh, and the
// rotated refresh token is not lost: the next refresh succeeds instead of asking to sign in.
func TestTwoReplicasRefreshASessionOnce(t *testing.T) {
	t.Parallel()
	const tokenLifetime = 2 * time.Second // refreshed after three quarters of it
	rs := startReplicasOnRedis(t, tokenLifetime)
	lb, site, b := rs.lb, rs.site, newBrowser(t)

	lb.use(0)
	b.signInAt(site, site.url, "admin")
	signedIn := time.Now()
	if before := rs.idp.Stats(); before.Refreshes != 0 {
		t.Fatalf("the token was refreshed right after sign-in: %+v", before)
	}
	time.Sleep(time.Until(signedIn.Add(tokenLifetime)))
	loadConcurrently(t, b, site.url, 8) // half through each replica, all needing a refresh
	if after := rs.idp.Stats(); after.Refreshes != 1 || after.RefusedRefreshes != 0 {
		t.Errorf("concurrent page loads through both replicas: provider %+v, want exactly one refresh and none refused", after)
	}

	// The refresh token the session holds is the live one: once this token is due too, the next
	// refresh succeeds instead of sending the person to sign in.
	refreshed := time.Now()
	time.Sleep(time.Until(refreshed.Add(tokenLifetime)))
	for i := range rs.replicas {
		lb.use(i)
		resp, doc := b.get(site.url)
		if !strings.HasPrefix(resp.Request.URL.String(), site.url) || doc.Find(`input[name="telephone"]`).Length() != 1 {
			t.Fatalf("replica %d after the next refresh: at %s\n%s", i+1, resp.Request.URL, html(doc))
		}
	}
	if after := rs.idp.Stats(); after.Refreshes != 2 || after.RefusedRefreshes != 0 || after.SignIns != 1 {
		t.Errorf("provider %+v, want one sign-in, two refreshes, none refused", after)
	}
}

// replicasOnRedis are two replicas in production mode behind one public URL (lb), with sessions
// in Redis, on the stand-ins run as the production app meets the real services.
type replicasOnRedis struct {
	lb       *replicaProxy
	idp      *idpStandIn
	emu      *emuStandIn
	args     []string // a replica's flags, to start another
	replicas []*replica
	site     *testApp // the public URL, for signInAt
}

func startReplicasOnRedis(t *testing.T, tokenLifetime time.Duration) *replicasOnRedis {
	t.Helper()
	redis := redistest.Start(t)
	lb := startReplicaProxy(t)
	idp, emu := startProductionStandIns(t, lb.URL+"/auth/callback", tokenLifetime)
	args := []string{
		"--oidc-issuer", idp.URL, "--client-id", "pcsupport", "--client-secret", idp.secret,
		"--session-keys", sessionKeys(), "--partner-center-url", emu.URL, "--public-url", lb.URL + "/",
		"--session-store", "redis", "--redis-url", redis.URL, "--listen", "127.0.0.1:0", "--log-level", "debug",
	}
	replicas := []*replica{startReplica(t, args...), startReplica(t, args...)}
	lb.route(0, replicas[0])
	lb.route(1, replicas[1])
	return &replicasOnRedis{lb: lb, idp: idp, emu: emu, args: args, replicas: replicas,
		site: &testApp{app: &app{dev: &devStandIns{idpURL: idp.URL}}, url: lb.URL + "/"}}
}

// loadConcurrently opens the page n times at once, alternating between the replicas.
func loadConcurrently(t *testing.T, b *browser, page string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, page, nil)
			req.Header.Set(replicaHeader, []string{"0", "1"}[i%2])
			resp, err := b.client.Do(req)
			if err != nil {
				t.Errorf("load %d: %v", i, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), page) || doc.Find(`input[name="telephone"]`).Length() != 1 {
				t.Errorf("load %d through replica %d: %d at %s\n%s", i, i%2+1, resp.StatusCode, resp.Request.URL, body)
			}
		})
	}
	wg.Wait()
}

// replica is one app instance run as `web` with production flags.
type replica struct {
	*app
	stop func()
}

func startReplica(t *testing.T, args ...string) *replica {
	t.Helper()
	args = append(args, "--data-dir", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	ready, done, logs := make(chan *app, 1), make(chan error, 1), &testkit.SyncBuffer{}
	go func() { done <- run(ctx, args, func(string) string { return "" }, io.Discard, logs, ready) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			if t.Failed() {
				t.Logf("replica log:\n%s", logs.String())
			}
		})
	}
	select {
	case a := <-ready:
		t.Cleanup(stop)
		return &replica{app: a, stop: stop}
	case err := <-done:
		t.Fatalf("replica did not start: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		stop()
		t.Fatalf("replica did not start in time\n%s", logs.String())
	}
	return nil
}

// replicaHeader picks the replica for one request; without it the proxy uses the current one.
const replicaHeader = "X-Test-Replica"

// replicaProxy is the shared public URL: a reverse proxy to whichever replica is chosen.
type replicaProxy struct {
	*httptest.Server
	targets [2]atomic.Pointer[url.URL]
	current atomic.Int32
	counts  [2]atomic.Int64
}

func startReplicaProxy(t *testing.T) *replicaProxy {
	p := &replicaProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(p.current.Load())
		switch r.Header.Get(replicaHeader) {
		case "0":
			i = 0
		case "1":
			i = 1
		}
		target := p.targets[i].Load()
		if target == nil {
			http.Error(w, "no replica", http.StatusBadGateway)
			return
		}
		p.counts[i].Add(1)
		(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		}}).ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *replicaProxy) route(i int, r *replica) {
	p.targets[i].Store(&url.URL{Scheme: "http", Host: r.listenAddr()})
}

func (p *replicaProxy) use(i int)          { p.current.Store(int32(i)) }
func (p *replicaProxy) served(i int) int64 { return p.counts[i].Load() }

// listenAddr is where the replica listens; its public URL is the proxy's.
func (r *replica) listenAddr() string { return r.addr }

// idpStandIn is the dev provider as the production app meets the real one: a service of its
// own with the app registered under a secret.
type idpStandIn struct {
	*devidp.Provider
	URL, secret string
}

type emuStandIn struct {
	*pcemu.Emulator
	URL string
}

// startProductionStandIns starts the dev provider and the emulator as the production app meets
// the real ones: separate services, a registered client with a secret.
func startProductionStandIns(t *testing.T, redirectURI string, tokenLifetime time.Duration) (*idpStandIn, *emuStandIn) {
	t.Helper()
	s, err := devstack.Start(devstack.Options{
		Clients:             []devstack.Client{{ID: "pcsupport", RedirectURIs: []string{redirectURI}}},
		AccessTokenLifetime: tokenLifetime,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &idpStandIn{Provider: s.Provider, URL: s.ProviderURL, secret: s.Secret("pcsupport")},
		&emuStandIn{Emulator: s.Emulator, URL: s.EmulatorURL}
}

// sessionKeys is a fresh signing and encryption key pair, as --session-keys takes them.
func sessionKeys() string {
	return base64.StdEncoding.EncodeToString(securecookie.GenerateRandomKey(32)) + " " +
		base64.StdEncoding.EncodeToString(securecookie.GenerateRandomKey(32))
}
