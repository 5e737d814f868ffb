package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// Two people save from the same loaded version at the same moment, each through another replica:
// the replicas share the per-partner save lock in Redis, so one save applies and the other is
// shown as a conflict (with only in-process locks both would apply and one would be lost).
func TestReplicasDoNotBothApplyConflictingSaves(t *testing.T) {
	t.Parallel()
	rs := startReplicasOnRedis(t, time.Hour)
	replicas, emu, site := rs.replicas, rs.emu, rs.site
	rs.lb.use(0)

	people := []*browser{newBrowser(t), newBrowser(t)}
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	forms := make([]url.Values, 2)
	for i, b := range people {
		_, doc := b.signInAt(site, site.url, "admin")
		f := formValues(doc)
		f.Set("telephone", fmt.Sprintf("+1 425 555 01%02d", i))
		forms[i] = f
	}
	// Both GETs of the saves overlap: without a shared lock both would see the loaded version.
	emu.InjectFaults(pcemu.Fault{Method: http.MethodGet, Delay: 300 * time.Millisecond, Count: 2})
	for i, b := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Cookies go by host, not port: the session works on each replica's own address.
			resp, _ := b.post("http://"+replicas[i].listenAddr()+"/save", forms[i], "HX-Request", "true")
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	saved := -1
	for i, s := range statuses {
		if s == http.StatusOK {
			saved = i
		}
	}
	if !(statuses[0] == http.StatusOK && statuses[1] == http.StatusConflict || statuses[0] == http.StatusConflict && statuses[1] == http.StatusOK) {
		t.Fatalf("statuses %v: want one save applied and one conflict", statuses)
	}
	if _, tel, _ := emu.Profile(devidp.TenantID); !strings.HasSuffix(tel, fmt.Sprintf("01%02d", saved)) {
		t.Errorf("Partner Center holds %q; the applied save was person %d's", tel, saved)
	}
}
