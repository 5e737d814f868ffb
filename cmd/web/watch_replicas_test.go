package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"pcsupport/internal/devidp"
	"pcsupport/internal/history/pgtest"
	"pcsupport/internal/testkit/redistest"
)

// Two replicas sharing Redis and PostgreSQL both run the watcher: between them they check the
// tenant about once per interval (a replica takes the tenant's lock, reads the watch as the store
// has it then, and leaves a tenant another replica read lately), so the rotating refresh token
// is never spent twice (which would stop the watch), and an outside change is recorded once.
func TestTwoReplicasWatchATenantOnce(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	lb := startReplicaProxy(t)
	idp, emu := startProductionStandIns(t, lb.URL+"/auth/callback", time.Hour)
	args := []string{
		"--oidc-issuer", idp.URL, "--client-id", "pcsupport", "--client-secret", idp.secret,
		"--session-keys", sessionKeys(), "--partner-center-url", emu.URL, "--public-url", lb.URL + "/",
		"--session-store", "redis", "--redis-url", redis.URL, "--listen", "127.0.0.1:0", "--log-level", "debug",
		"--database-url", pgtest.NewDatabase(t), "--watch-interval", "1s",
	}
	lb.route(0, startReplica(t, args...))
	lb.route(1, startReplica(t, args...))
	site := &testApp{app: &app{dev: &devStandIns{idpURL: idp.URL}}, url: lb.URL + "/"}

	b := newBrowser(t)
	lb.use(0)
	_, doc := b.signInAt(site, site.url, "admin")
	csrf := doc.Find(`#watch form input[name="_csrf"]`).AttrOr("value", "")
	lb.use(1)
	b.post(site.url+"watch/start", url.Values{"_csrf": {csrf}})
	refreshes := idp.Stats().Refreshes

	emu.SetProfile(devidp.TenantID, "replicas@contoso-partner.example", "+33 1 98 98 98 98", "www.contoso-partner.example")
	time.Sleep(4500 * time.Millisecond) // four intervals and a half
	stats := idp.Stats()
	if stats.RefusedRefreshes != 0 {
		t.Errorf("%d refreshes refused: the replicas spent one refresh token twice", stats.RefusedRefreshes)
	}
	if n := stats.Refreshes - refreshes; n < 2 || n > 6 {
		t.Errorf("%d refreshes in four intervals and a half with two replicas, want about one per interval", n)
	}
	_, doc = b.get(site.url + "history")
	if outside := doc.Find(`#history > li:contains("Changed outside this app")`).Length(); outside != 1 {
		t.Errorf("%d outside changes recorded, want 1:\n%s", outside, text(doc.Find("#history")))
	}
	_, doc = b.get(site.url)
	if watch := text(doc.Find("#watch")); !strings.Contains(watch, "Watching") || !strings.Contains(watch, "Last read:") {
		t.Errorf("the watch after four intervals: %s", watch)
	}
}
