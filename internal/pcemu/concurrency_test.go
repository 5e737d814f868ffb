package pcemu

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestConcurrentSessions is for -race: many sessions read, write, fault and
// look at the control surface at once, and every request is counted once.
func TestConcurrentSessions(t *testing.T) {
	e := newTestEmulator(t, Options{RateLimit: 1000})
	const sessions, rounds = 40, 10
	tokens := make([]string, sessions)
	for i := range tokens {
		tid := fmt.Sprintf("00000000-0000-0000-0000-%012d", i%5)
		e.AssignRole(tid, adminOID, RoleAccountAdmin)
		tokens[i] = userToken(t, tid, adminOID)
	}
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() {
			for j := range rounds {
				switch j % 5 {
				case 0:
					e.InjectFaults(Fault{Status: 503})
				case 1:
					serve(t, e, request{path: "/_emulator/"})
				case 2:
					e.SetProfile("00000000-0000-0000-0000-000000000000", "x@y.example", "4255550100", "y.example")
				}
				serve(t, e, request{token: tokens[i]})
				serve(t, e, request{method: http.MethodPut, token: tokens[i], body: camelBody})
				_ = e.Stats()
				_ = e.TenantStats("00000000-0000-0000-0000-000000000001")
			}
		})
	}
	wg.Wait()
	s := e.Stats()
	if total := s.Gets + s.Puts + s.Refused; total != sessions*rounds*2 {
		t.Errorf("counted %d requests (%+v), made %d", total, s, sessions*rounds*2)
	}
	// Every injected fault (one per session per five rounds) was consumed by a request.
	if s.Refused != sessions*rounds/5 || len(e.snapshot().Faults) != 0 {
		t.Errorf("refused %d, faults left %d", s.Refused, len(e.snapshot().Faults))
	}
}
