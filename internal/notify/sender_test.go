package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/keyedlock"
	"pcsupport/internal/notify"
	"pcsupport/internal/testkit"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// The reliability the operator counts on: a receiver down for hours (answering 503, then
// dropping connections) gets every message once it is back, each once, each with the id it
// would have had the first time; and a restart while it is down (a new Sender over the same
// outbox, as after a deploy) loses none. Redelivery after a restart is allowed, but only with
// the same id, which the stand-in would drop.
func TestAReceiverDownForAWhileGetsEveryMessageAndARestartLosesNone(t *testing.T) {
	clock := newClock(t0)
	secret := notify.NewSecret()
	back := t0.Add(3 * time.Hour)
	rec := newStandIn(t, clock, secret, func(now time.Time, r *http.Request) answer {
		switch {
		case now.Before(t0.Add(90 * time.Minute)):
			return answer{status: http.StatusServiceUnavailable, body: "down for maintenance"}
		case now.Before(back):
			return answer{hangUp: true}
		}
		return answer{status: http.StatusOK}
	})
	receivers := rec.receivers(t)
	outbox := &notify.MemoryOutbox{}
	var ids []int64
	for i := range 5 {
		n := change(int64(100+i), t0.Add(time.Duration(i)*time.Second))
		outbox.Enqueue(n, notify.Keys(receivers), n.At)
		ids = append(ids, n.EntryID)
	}
	o := notify.Options{Outbox: outbox, Receivers: receivers, Secret: secret, Clock: clock}

	clock.stopAt(t0.Add(time.Hour))
	stop := run(t, newSender(t, o))
	waitFor(t, "an hour of the receiver being down", clock.stopped)
	stop()
	for _, id := range ids {
		if got := summary(outbox, id); got != notify.SummaryRetrying {
			t.Errorf("entry %d before the restart: %q, want retrying", id, got)
		}
	}
	if n := len(rec.got()); n < 3*2 {
		t.Errorf("%d attempts in the first hour", n)
	}

	clock.stopAt(t0.Add(1000 * time.Hour))
	stop = run(t, newSender(t, o)) // the restart: a new Sender, the same outbox
	waitFor(t, "every delivery to be delivered", func() bool {
		for _, id := range ids {
			if summary(outbox, id) != notify.SummaryDelivered {
				return false
			}
		}
		return true
	})
	stop()

	accepted := map[string]map[int64]int{}
	idOf := map[int64]string{}
	for _, r := range rec.got() {
		if r.status != http.StatusOK {
			continue
		}
		if r.at.Before(back) {
			t.Errorf("accepted at %v, before the receiver was back", r.at)
		}
		if accepted[r.path] == nil {
			accepted[r.path] = map[int64]int{}
		}
		accepted[r.path][r.entry]++
		if r.path == "/standard" {
			if r.verified != nil {
				t.Errorf("entry %d: the signature does not verify: %v", r.entry, r.verified)
			}
			want := notify.NotificationID(r.entry, t0.Add(time.Duration(r.entry-100)*time.Second))
			if got := r.header.Get("webhook-id"); got != want || idOf[r.entry] != "" && idOf[r.entry] != got {
				t.Errorf("entry %d delivered with id %q, want %q every time", r.entry, got, want)
			}
			idOf[r.entry] = r.header.Get("webhook-id")
		}
	}
	// Every attempt of a notification, failed or not, carried its one id.
	for _, r := range rec.got() {
		if r.path == "/standard" && r.header.Get("webhook-id") != idOf[r.entry] {
			t.Errorf("entry %d attempted with id %q, delivered with %q", r.entry, r.header.Get("webhook-id"), idOf[r.entry])
		}
	}
	for _, path := range []string{"/standard", "/teams", "/slack"} {
		for _, id := range ids {
			if accepted[path][id] != 1 {
				t.Errorf("%s got entry %d %d times, want once", path, id, accepted[path][id])
			}
		}
	}
}

// A delivery that keeps failing is tried on the documented schedule (10 s, 30 s, 1 min, 5 min,
// 15 min, 1 h, then hourly) until a day after it was queued, the last attempt at that very
// time; then it gives up, and the metrics say so.
func TestGivesUpADayAfterItWasQueued(t *testing.T) {
	clock := newClock(t0)
	rec := newStandIn(t, clock, notify.Secret{}, func(time.Time, *http.Request) answer {
		return answer{status: http.StatusBadGateway, body: "bad gateway"}
	})
	receivers := rec.receivers(t, "teams:/teams")
	outbox := &notify.MemoryOutbox{}
	n := change(7, t0)
	outbox.Enqueue(n, notify.Keys(receivers), t0)
	var metrics counter
	stop := run(t, newSender(t, notify.Options{Outbox: outbox, Receivers: receivers, Clock: clock, Observer: &metrics}))
	waitFor(t, "the delivery to give up", func() bool { return summary(outbox, 7) == notify.SummaryGaveUp })
	stop()

	var want []time.Time
	at := t0
	for i, wait := 0, time.Duration(0); at.Before(t0.Add(24 * time.Hour)); i++ {
		if at = at.Add(wait); at.After(t0.Add(24 * time.Hour)) {
			at = t0.Add(24 * time.Hour)
		}
		want = append(want, at)
		wait = []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour}[min(i, 5)]
	}
	var got []time.Time
	for _, r := range rec.got() {
		got = append(got, r.at)
	}
	if len(got) != len(want) {
		t.Fatalf("%d attempts, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("attempt %d at %v, want %v", i+1, got[i].Sub(t0), want[i].Sub(t0))
		}
	}
	if state, _ := outbox.State(notify.DeliveryKey{NotificationID: n.ID, Receiver: receivers[0].Key()}); !strings.HasPrefix(state.LastError, "HTTP 502: bad gateway") {
		t.Errorf("last error %q", state.LastError)
	}
	if metrics.get("teams retry") != len(want)-1 || metrics.get("teams gave_up") != 1 || metrics.get("teams delivered") != 0 {
		t.Errorf("metrics %v, want %d retries and one give-up", metrics.n, len(want)-1)
	}
}

// A receiver's Retry-After is waited out, up to an hour.
func TestRetryAfterIsRespected(t *testing.T) {
	for name, tc := range map[string]struct {
		status     int
		retryAfter string
		wait       time.Duration
	}{
		"429, seconds":              {http.StatusTooManyRequests, "120", 120 * time.Second},
		"503, a date":               {http.StatusServiceUnavailable, t0.Add(3 * time.Minute).Format(http.TimeFormat), 3 * time.Minute},
		"503, two hours, kept to 1": {http.StatusServiceUnavailable, "7200", time.Hour},
		"shorter than the backoff":  {http.StatusTooManyRequests, "1", 10 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			clock := newClock(t0)
			first := true
			var mu sync.Mutex
			rec := newStandIn(t, clock, notify.Secret{}, func(time.Time, *http.Request) answer {
				mu.Lock()
				defer mu.Unlock()
				if first {
					first = false
					return answer{status: tc.status, retryAfter: tc.retryAfter}
				}
				return answer{status: http.StatusOK}
			})
			receivers := rec.receivers(t, "slack:/slack")
			outbox := &notify.MemoryOutbox{}
			outbox.Enqueue(change(1, t0), notify.Keys(receivers), t0)
			stop := run(t, newSender(t, notify.Options{Outbox: outbox, Receivers: receivers, Clock: clock}))
			waitFor(t, "delivery", func() bool { return summary(outbox, 1) == notify.SummaryDelivered })
			stop()
			got := rec.got()
			if len(got) != 2 || got[1].at.Sub(got[0].at) != tc.wait {
				t.Errorf("attempts at %v, want the second %v after the first", got, tc.wait)
			}
		})
	}
}

// A receiver that refuses (a deleted Slack webhook's 404 no_service) is given up within
// minutes, not tried for a day; 410 Gone at once; a 408 is a failure like a 5xx.
func TestRefusalsGiveUpSoon(t *testing.T) {
	clock := newClock(t0)
	rec := newStandIn(t, clock, notify.NewSecret(), func(_ time.Time, r *http.Request) answer {
		switch r.URL.Path {
		case "/slack":
			return answer{status: http.StatusNotFound, body: "no_service"}
		case "/standard":
			return answer{status: http.StatusGone}
		case "/teams":
			return answer{status: http.StatusBadRequest, body: `{"error":{"code":"TriggerInputSchemaMismatch"}}`}
		}
		return answer{status: http.StatusRequestTimeout}
	})
	receivers := rec.receivers(t, "slack:/slack", "/standard", "teams:/teams", "/slow")
	outbox := &notify.MemoryOutbox{}
	n := change(1, t0)
	outbox.Enqueue(n, notify.Keys(receivers), t0)
	var metrics counter
	stop := run(t, newSender(t, notify.Options{Outbox: outbox, Receivers: receivers, Clock: clock, Secret: notify.NewSecret(), Observer: &metrics}))
	state := func(r notify.Receiver) notify.DeliveryState {
		s, _ := outbox.State(notify.DeliveryKey{NotificationID: n.ID, Receiver: r.Key()})
		return s
	}
	waitFor(t, "the refused deliveries to give up", func() bool {
		return state(receivers[0]).State == notify.GaveUp && state(receivers[1]).State == notify.GaveUp && state(receivers[2]).State == notify.GaveUp
	})
	stop()
	attempts := map[string][]time.Duration{}
	for _, r := range rec.got() {
		attempts[r.path] = append(attempts[r.path], r.at.Sub(t0))
	}
	if got := attempts["/slack"]; len(got) != 5 || got[4] != 6*time.Minute+40*time.Second {
		t.Errorf("slack's 404 attempted at %v, want 5 times, the last at 6m40s", got)
	}
	if got := attempts["/standard"]; len(got) != 1 {
		t.Errorf("410 attempted at %v, want once", got)
	}
	if got := state(receivers[0]).LastError; got != "HTTP 404: no_service" {
		t.Errorf("slack's last error %q", got)
	}
	if got := state(receivers[2]).LastError; !strings.Contains(got, "HTTP 400: ") || !strings.Contains(got, "TriggerInputSchemaMismatch") {
		t.Errorf("teams' last error %q", got)
	}
	if s := state(receivers[3]); s.State != notify.Pending || s.Attempts < 5 {
		t.Errorf("408: %+v, want still retrying after 5 attempts", s)
	}
	if metrics.get("slack gave_up") != 1 || metrics.get("slack retry") != 4 || metrics.get("standard gave_up") != 1 {
		t.Errorf("metrics %v", metrics.n)
	}
}

// A dead receiver costs one attempt a pass: its other deliveries wait for that attempt's
// retry, and another receiver's deliveries, queued after thirty of the dead one's, go at once.
func TestADeadReceiverDoesNotHoldUpTheOthers(t *testing.T) {
	clock := newClock(t0)
	rec := newStandIn(t, clock, notify.NewSecret(), func(_ time.Time, r *http.Request) answer {
		if r.URL.Path == "/dead" {
			return answer{hangUp: true}
		}
		return answer{status: http.StatusNoContent}
	})
	receivers := rec.receivers(t, "teams:/dead", "slack:/alive")
	outbox := &notify.MemoryOutbox{}
	for i := range 30 {
		outbox.Enqueue(change(int64(i+1), t0.Add(-time.Minute)), []string{receivers[0].Key()}, t0.Add(time.Duration(i-30)*time.Second))
	}
	outbox.Enqueue(change(99, t0), []string{receivers[1].Key()}, t0)
	clock.stopAt(t0.Add(15 * time.Second))
	stop := run(t, newSender(t, notify.Options{Outbox: outbox, Receivers: receivers, Clock: clock, Batch: 20}))
	waitFor(t, "the first pass after the dead receiver's retry", clock.stopped)
	stop()
	perPass := map[string]map[time.Duration]int{"/dead": {}, "/alive": {}}
	for _, r := range rec.got() {
		perPass[r.path][r.at.Sub(t0)]++
	}
	if perPass["/alive"][0] != 1 {
		t.Errorf("the live receiver's delivery went at %v, want at once", perPass["/alive"])
	}
	if len(perPass["/dead"]) != 2 || perPass["/dead"][0] != 1 || perPass["/dead"][10*time.Second] != 1 {
		t.Errorf("the dead receiver was attempted %v (by time since start), want once a pass", perPass["/dead"])
	}
	if got := summary(outbox, 30); got != notify.SummaryRetrying {
		t.Errorf("a delivery held back: %q, want retrying", got)
	}
}

// With several replicas, one sends at a time: two Senders over one outbox, sharing a lock,
// never post at the same moment and never send a message twice; without the lock they would.
func TestTwoSendersSharingALockSendOneAtATime(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	count := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		count[r.Header.Get("webhook-id")]++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	receivers, _ := notify.ParseReceivers(srv.URL + "/standard")
	outbox := &notify.MemoryOutbox{}
	now := time.Now()
	for i := range 20 {
		outbox.Enqueue(change(int64(i+1), now), notify.Keys(receivers), now)
	}
	lock := &keyedlock.Locks{}
	o := notify.Options{Outbox: outbox, Receivers: receivers, Secret: notify.NewSecret(), Locker: lock, PollEvery: time.Millisecond, Batch: 3}

	// While another replica holds the lock, nothing is sent.
	unlock, err := lock.Lock(t.Context(), "notify-sender")
	if err != nil {
		t.Fatal(err)
	}
	a, b := newSender(t, o), newSender(t, o)
	run(t, a)
	run(t, b)
	a.Wake()
	time.Sleep(30 * time.Millisecond)
	mu.Lock()
	sent := len(count)
	mu.Unlock()
	if sent != 0 {
		t.Fatalf("%d sent while another held the lock", sent)
	}
	unlock()
	waitFor(t, "every delivery", func() bool {
		for i := range 20 {
			if summary(outbox, int64(i+1)) != notify.SummaryDelivered {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	if most != 1 {
		t.Errorf("%d attempts at once", most)
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
}

// Receivers' URLs carry their tokens, and the secret signs: neither, nor a signature, appears
// in the log (every attempt, at debug) or in what the outbox keeps for the history page,
// whatever goes wrong: a refused connection (net/http's errors quote the URL), a timeout, a
// receiver that echoes the request's URL in its error, a success.
func TestNoURLOrSecretInLogsOrErrors(t *testing.T) {
	clock := newClock(t0)
	secret := notify.NewSecret()
	rec := newStandIn(t, clock, secret, func(_ time.Time, r *http.Request) answer {
		switch {
		case strings.HasPrefix(r.URL.Path, "/teams"):
			return answer{status: http.StatusInternalServerError, body: "cannot post to " + r.URL.String() + " (" + r.URL.RawQuery + ")"}
		case strings.HasPrefix(r.URL.Path, "/standard/hang"):
			return answer{hang: true}
		}
		return answer{status: http.StatusOK}
	})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()
	setting := rec.srv.URL + "/standard/TOKENPLAIN789?sig=TOKENSIG123" +
		" teams:" + rec.srv.URL + "/teams/TOKENWORKFLOW?api-version=1&sig=TOKENSIG123" +
		" slack:" + closedURL + "/services/T0/B0/TOKENSLACK456" +
		" " + rec.srv.URL + "/standard/hang/TOKENPLAIN789"
	receivers, problems := notify.ParseReceivers(setting)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var logs testkit.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	outbox := &notify.MemoryOutbox{}
	n := change(5, t0)
	outbox.Enqueue(n, notify.Keys(receivers), t0)
	stop := run(t, newSender(t, notify.Options{Outbox: outbox, Receivers: receivers, Secret: secret, Clock: clock, Logger: log, AttemptTimeout: 50 * time.Millisecond}))
	waitFor(t, "two attempts of each failing delivery", func() bool {
		for _, s := range outbox.States(5) {
			if s.State != notify.Delivered && s.Attempts < 2 {
				return false
			}
		}
		return true
	})
	stop()

	out := logs.String()
	var lastErrors []string
	for _, s := range outbox.States(5) {
		lastErrors = append(lastErrors, s.LastError)
	}
	kept := strings.Join(lastErrors, "\n")
	secrets := append(append([]string{}, tokens...), secret.Text(), strings.TrimPrefix(secret.Text(), "whsec_"), "/services/T0/B0/")
	for _, r := range rec.got() {
		if sig := r.header.Get("webhook-signature"); sig != "" {
			secrets = append(secrets, strings.TrimPrefix(sig, "v1,"))
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log shows %q", s)
		}
		if strings.Contains(kept, s) {
			t.Errorf("the outbox keeps %q", s)
		}
	}
	// The log says what an operator needs instead: which receiver, which notification, what.
	for _, want := range []string{`"receivers":"receiver 1 (standard), receiver 2 (teams), receiver 3 (slack), receiver 4 (standard)"`, `"msg":"notification delivered"`, `"receiver":"receiver 1 (standard)"`, `"receiver":"receiver 3 (slack)"`,
		`"notification_id":"` + n.ID + `"`, `"status":500`, "connection refused", "no answer within 50ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}

// A redirect is not followed (the Standard Webhooks specification: the sender should update the
// URL instead): the message goes nowhere the operator did not name, and the error says why.
func TestRedirectsAreNotFollowed(t *testing.T) {
	clock := newClock(t0)
	rec := newStandIn(t, clock, notify.NewSecret(), func(_ time.Time, r *http.Request) answer {
		if r.URL.Path == "/moved" {
			return answer{status: http.StatusPermanentRedirect, location: "/elsewhere"}
		}
		return answer{status: http.StatusOK}
	})
	receivers := rec.receivers(t, "slack:/moved")
	outbox := &notify.MemoryOutbox{}
	n := change(1, t0)
	outbox.Enqueue(n, notify.Keys(receivers), t0)
	clock.stopAt(t0.Add(time.Minute))
	stop := run(t, newSender(t, notify.Options{Outbox: outbox, Receivers: receivers, Clock: clock}))
	waitFor(t, "a minute of attempts", clock.stopped)
	stop()
	for _, r := range rec.got() {
		if r.path != "/moved" {
			t.Errorf("followed the redirect to %s", r.path)
		}
	}
	s, _ := outbox.State(notify.DeliveryKey{NotificationID: n.ID, Receiver: receivers[0].Key()})
	if s.State != notify.Pending || !strings.Contains(s.LastError, "HTTP 308") || !strings.Contains(s.LastError, "redirect, not followed") {
		t.Errorf("state %+v", s)
	}
}

// flakyLocker fails its first calls, as Redis does while it is down.
type flakyLocker struct {
	mu    sync.Mutex
	fails int
}

func (l *flakyLocker) Lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails > 0 {
		l.fails--
		return nil, fmt.Errorf("dial tcp 10.0.0.5:6379: connection refused")
	}
	return func() {}, nil
}

// While the senders' lock cannot be taken (Redis down), nothing is sent and the log says so
// once; when it can again, what waited is sent.
func TestSendingWaitsForTheLock(t *testing.T) {
	clock := newClock(t0)
	rec := newStandIn(t, clock, notify.Secret{}, func(time.Time, *http.Request) answer { return answer{status: http.StatusOK} })
	receivers := rec.receivers(t, "slack:/slack")
	outbox := &notify.MemoryOutbox{}
	outbox.Enqueue(change(1, t0), notify.Keys(receivers), t0)
	var logs testkit.SyncBuffer
	stop := run(t, newSender(t, notify.Options{Outbox: outbox, Receivers: receivers, Clock: clock, Locker: &flakyLocker{fails: 12},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	waitFor(t, "delivery", func() bool { return summary(outbox, 1) == notify.SummaryDelivered })
	stop()
	if got := rec.got(); len(got) != 1 || got[0].at.Sub(t0) != 12*5*time.Second {
		t.Errorf("sent %v; want once, after twelve polls (1m0s)", got)
	}
	if n := strings.Count(logs.String(), "lock cannot be taken"); n != 1 {
		t.Errorf("%d warnings:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "lock can be taken again") {
		t.Errorf("no word of recovery:\n%s", logs.String())
	}
}
