package notify_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/notify"
	"pcsupport/internal/support"
)

// fakeClock is the Sender's time in tests: waiting moves it forward at once, so a day of
// retries takes milliseconds, up to a limit at which waits stop until the test raises it.
type fakeClock struct {
	mu         sync.Mutex
	cond       *sync.Cond
	now, limit time.Time
	parked     int
}

func newClock(now time.Time) *fakeClock {
	c := &fakeClock{now: now, limit: now.Add(1000 * time.Hour)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	target := c.now.Add(d)
	c.parked++
	go func() {
		c.mu.Lock()
		for target.After(c.limit) {
			c.cond.Wait()
		}
		c.parked--
		if target.After(c.now) {
			c.now = target
		}
		c.mu.Unlock()
		ch <- target
	}()
	return ch
}

// stopAt makes waits stop at t.
func (c *fakeClock) stopAt(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit = t
	c.cond.Broadcast()
}

// stopped reports that a wait has reached the limit.
func (c *fakeClock) stopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parked > 0 && !c.now.Add(time.Nanosecond).Before(c.limit.Add(-time.Minute))
}

// answer is what the stand-in receiver does with a request.
type answer struct {
	status     int
	body       string
	retryAfter string
	location   string
	hangUp     bool // drop the connection without answering
	hang       bool // answer nothing until the sender gives up
}

// received is one request as the stand-in saw it.
type received struct {
	path     string
	at       time.Time // the Sender's time
	header   http.Header
	body     []byte
	entry    int64 // the history entry it tells of (from its link)
	status   int   // what the stand-in answered (0: nothing)
	verified error // the Standard Webhooks signature's check (standard only)
}

// standIn is a receiver of the three formats, at /standard, /teams and /slack (and any path
// below them), answering as the test says.
type standIn struct {
	srv    *httptest.Server
	clock  notify.Clock
	secret notify.Secret
	answer func(now time.Time, r *http.Request) answer

	mu       sync.Mutex
	requests []received
}

var entryInLink = regexp.MustCompile(`history\?before=(\d+)`)

func newStandIn(t *testing.T, clock notify.Clock, secret notify.Secret, answer func(time.Time, *http.Request) answer) *standIn {
	s := &standIn{clock: clock, secret: secret, answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := s.clock.Now()
	rec := received{path: r.URL.Path, at: now, header: r.Header.Clone(), body: body}
	if m := entryInLink.FindSubmatch(body); m != nil {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		rec.entry = n - 1
	}
	if strings.HasPrefix(r.URL.Path, "/standard") {
		rec.verified = s.secret.Verify(r.Header, body, now)
	}
	a := s.answer(now, r)
	if a.status != 0 {
		rec.status = a.status
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	switch {
	case a.hangUp:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case a.hang:
		<-r.Context().Done()
	default:
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		if a.location != "" {
			w.Header().Set("Location", a.location)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}
}

func (s *standIn) got() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.requests...)
}

// receivers are the stand-in's three paths as the setting would name them.
func (s *standIn) receivers(t *testing.T, paths ...string) []notify.Receiver {
	t.Helper()
	if len(paths) == 0 {
		paths = []string{"/standard", "teams:/teams", "slack:/slack"}
	}
	var setting []string
	for _, p := range paths {
		prefix, path, ok := strings.Cut(p, ":")
		if !ok {
			prefix, path = "", p
		} else {
			prefix += ":"
		}
		setting = append(setting, prefix+s.srv.URL+path)
	}
	r, problems := notify.ParseReceivers(strings.Join(setting, " "))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return r
}

// change is a notification of history entry id, recorded at at.
func change(id int64, at time.Time) notify.Notification {
	return notify.Notification{ID: notify.NotificationID(id, at), EntryID: id, TenantID: "tenant-1", Company: "Contoso",
		Kind: notify.KindOutside, At: at,
		Before: support.Contact{Email: fmt.Sprintf("before-%d@contoso.example", id)},
		After:  support.Contact{Email: fmt.Sprintf("after-%d@contoso.example", id)}}
}

func linkTo(id int64) string { return notify.EntryLink("https://app.example/", id) }

func newSender(t *testing.T, o notify.Options) *notify.Sender {
	t.Helper()
	if o.Link == nil {
		o.Link = linkTo
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration { return d }
	}
	s, err := notify.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run starts s; the returned func stops it and waits until it has.
func run(t *testing.T, s *notify.Sender) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func summary(o *notify.MemoryOutbox, id int64) notify.Summary { return notify.Summarize(o.States(id)) }

// counter is an Observer that counts.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Observe(format, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[format+" "+outcome]++
}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}
