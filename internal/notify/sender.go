package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Locker is one lock per key, as internal/keyedlock gives them: in process, or shared by the
// replicas through Redis, so that one replica at a time sends.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Observer counts attempts by receiver format and outcome (OutcomeDelivered, OutcomeRetry,
// OutcomeGaveUp); the app counts them in Prometheus.
type Observer interface {
	Observe(format, outcome string)
}

// ObserverFunc is a function as an Observer.
type ObserverFunc func(format, outcome string)

// Observe calls f.
func (f ObserverFunc) Observe(format, outcome string) { f(format, outcome) }

// Outcomes of an attempt, for the Observer.
const (
	OutcomeDelivered = "delivered" // the receiver answered 2xx
	OutcomeRetry     = "retry"     // it failed; the delivery will be attempted again
	OutcomeGaveUp    = "gave_up"   // it failed, and the delivery never will be
)

// Clock is the time as the Sender sees it; tests give one that needs no waiting.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// The retry policy. A delivery that fails is attempted again after 10 s, 30 s, 1 min, 5 min,
// 15 min, 1 h, then every hour (each wait ±20 %, so that deliveries failed together do not come
// back together), or later when the receiver's Retry-After asks for it (at most an hour), until
// a day after it was queued: the attempt due then is the last. A receiver's refusal (a 4xx
// other than 408, 425 and 429) rarely mends by waiting: a deleted Slack webhook answers 404
// no_service, a Teams workflow that only signed-in people may start 401, a payload it cannot
// read 400; such a delivery gives up when refused at its fifth attempt or later (about 7
// minutes, which spans a receiver being redeployed), and at once on 410 Gone (the Standard Webhooks specification:
// stop sending; Slack's archived channel). Redirects are not followed (the specification: update
// the URL instead); they are failures like a 5xx.
var backoff = []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour}

const (
	// GiveUpAfter is how long after it was queued a failing delivery is given up.
	GiveUpAfter = 24 * time.Hour
	// maxRefusals: a refused delivery gives up once it has been attempted this many times,
	// its earlier failures of any kind counted (the outbox keeps no count of refusals alone).
	maxRefusals = 5
	// maxRetryAfter caps a receiver's Retry-After.
	maxRetryAfter = time.Hour
	// unknownReceiverWait is how long a delivery to a receiver this replica does not have waits
	// for a replica that has it (a rolling change of the setting).
	unknownReceiverWait = 5 * time.Minute
	// maxErrorBody is how much of a failed answer's body is kept in the error (Slack says why
	// in a word: no_service, invalid_payload).
	maxErrorBody = 200
)

// Options configure a Sender. Outbox and, with a Standard Webhooks receiver, Secret are
// required; the rest have defaults.
type Options struct {
	Outbox    Outbox
	Receivers []Receiver
	Secret    Secret
	// Link is the address of a history entry in the app (EntryLink with the public URL); nil:
	// messages carry no link.
	Link func(entryID int64) string
	// Company names a partner by its tenant id ("" when not known: messages then name the
	// tenant); nil names none. The outbox keeps no name: it may be learnt after the change.
	Company func(tenantID string) string
	// Client sends the attempts; it is copied and made not to follow redirects. Default: a
	// client of its own.
	Client *http.Client
	// Locker and LockKey: one Sender at a time sends (default: a lock of this process).
	Locker  Locker
	LockKey string // default "notify-sender"
	// AttemptTimeout bounds one attempt (default 10 s).
	AttemptTimeout time.Duration
	// HoldFor bounds one pass under the lock: no attempt starts after it (default 1 min). A
	// Redis lock's TTL must exceed HoldFor plus AttemptTimeout, or another replica may take it
	// while this one still sends (which would only send twice what both take, with one id).
	HoldFor time.Duration
	// PollEvery is how often the outbox is read when nothing wakes the Sender (default 5 s).
	PollEvery time.Duration
	// Batch is how many deliveries are read at a time (default 20).
	Batch int

	Observer Observer     // default: counts nothing
	Logger   *slog.Logger // default: discards
	Clock    Clock        // default: the real time
	// Jitter spreads a wait (default: ±20 % at random).
	Jitter func(time.Duration) time.Duration
}

// Sender delivers what the outbox holds to the receivers.
type Sender struct {
	o         Options
	receivers map[string]Receiver // by Key
	client    *http.Client
	wake      chan struct{}
}

// New makes a Sender; Run starts it.
func New(o Options) (*Sender, error) {
	if o.Outbox == nil {
		return nil, errors.New("notify: no outbox")
	}
	s := &Sender{o: o, receivers: map[string]Receiver{}, wake: make(chan struct{}, 1)}
	for _, r := range o.Receivers {
		if r.Format == Standard && o.Secret.IsZero() {
			return nil, fmt.Errorf("notify: %s needs the signing secret", r)
		}
		s.receivers[r.Key()] = r
	}
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if o.Client != nil {
		c := *o.Client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = client
	if s.o.Locker == nil {
		s.o.Locker = &processLock{ch: make(chan struct{}, 1)}
	}
	if s.o.LockKey == "" {
		s.o.LockKey = "notify-sender"
	}
	if s.o.AttemptTimeout <= 0 {
		s.o.AttemptTimeout = 10 * time.Second
	}
	if s.o.HoldFor <= 0 {
		s.o.HoldFor = time.Minute
	}
	if s.o.PollEvery <= 0 {
		s.o.PollEvery = 5 * time.Second
	}
	if s.o.Batch <= 0 {
		s.o.Batch = 20
	}
	if s.o.Observer == nil {
		s.o.Observer = ObserverFunc(func(string, string) {})
	}
	if s.o.Logger == nil {
		s.o.Logger = slog.New(slog.DiscardHandler)
	}
	if s.o.Clock == nil {
		s.o.Clock = realClock{}
	}
	if s.o.Jitter == nil {
		s.o.Jitter = func(d time.Duration) time.Duration {
			return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
		}
	}
	return s, nil
}

// Wake asks the Sender to read the outbox now rather than at its next poll: call it when a
// change has been recorded.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends: it takes the lock, attempts what is due, lets the lock go, and
// waits for the next poll or a Wake. It returns ctx's error.
func (s *Sender) Run(ctx context.Context) error {
	names := make([]string, 0, len(s.o.Receivers))
	for _, r := range s.o.Receivers {
		names = append(names, r.String())
	}
	s.o.Logger.Info("notifications: sending", "receivers", strings.Join(names, ", "))
	lockFailing := false
	for {
		unlock, err := s.o.Locker.Lock(ctx, s.o.LockKey)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if !lockFailing {
				s.o.Logger.Warn("notifications wait: the senders' lock cannot be taken", "err", err)
			}
			lockFailing = true
		default:
			if lockFailing {
				s.o.Logger.Info("notifications: the senders' lock can be taken again")
			}
			lockFailing = false
			s.pass(ctx)
			unlock()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		case <-s.o.Clock.After(s.o.PollEvery):
		}
	}
}

// pass attempts the deliveries due, batch after batch, until none is due, HoldFor has passed
// or the outbox fails. A receiver that fails holds back its other deliveries of the pass to the
// failed one's next attempt, so that a dead receiver costs one timeout a pass, not one a
// delivery, and others' deliveries are not kept waiting behind its.
func (s *Sender) pass(ctx context.Context) {
	start := s.o.Clock.Now()
	failing := map[string]failure{} // by receiver key, this pass
	for {
		due, err := s.o.Outbox.Due(ctx, s.o.Clock.Now(), s.o.Batch)
		if err != nil {
			if ctx.Err() == nil {
				s.o.Logger.Warn("notifications: the outbox cannot be read", "err", err)
			}
			return
		}
		for _, d := range due {
			if ctx.Err() != nil || s.o.Clock.Now().Sub(start) >= s.o.HoldFor {
				return
			}
			var err error
			if f, ok := failing[d.Receiver]; ok {
				err = s.holdBack(ctx, d, f)
			} else {
				var f *failure
				f, err = s.attempt(ctx, d)
				if f != nil {
					failing[d.Receiver] = *f
				}
			}
			if err != nil {
				if ctx.Err() == nil {
					s.o.Logger.Warn("notifications: the outbox cannot be written", "notification_id", d.Notification.ID, "err", err)
				}
				return // what was not marked is due again at the next pass: sent again, with its id
			}
		}
		if len(due) < s.o.Batch {
			return
		}
	}
}

// failure is a receiver's failure in this pass.
type failure struct {
	next   time.Time // its delivery's next attempt
	reason string
}

// attempt POSTs one delivery and marks what came of it. It returns the receiver's failure, if
// it failed and will be attempted again, and the outbox's error.
func (s *Sender) attempt(ctx context.Context, d Delivery) (*failure, error) {
	now := s.o.Clock.Now()
	r, ok := s.receivers[d.Receiver]
	if !ok {
		return nil, s.unknownReceiver(ctx, d, now)
	}
	n := d.Notification
	if s.o.Link != nil {
		n.Link = s.o.Link(n.EntryID)
	}
	if s.o.Company != nil && n.Company == "" {
		n.Company = s.o.Company(n.TenantID)
	}
	attempt := d.Attempts + 1
	log := s.o.Logger.With("notification_id", n.ID, "receiver", r.String(), "attempt", attempt)
	status, retryAfter, reason := s.post(ctx, r, n, now)
	now = s.o.Clock.Now()
	if status >= 200 && status < 300 {
		log.Debug("notification delivered", "status", status)
		s.o.Observer.Observe(string(r.Format), OutcomeDelivered)
		return nil, s.o.Outbox.Delivered(ctx, d.Key(), now)
	}
	deadline := d.Queued.Add(GiveUpAfter)
	refused := status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooEarly && status != http.StatusTooManyRequests
	if status == http.StatusGone || refused && attempt >= maxRefusals || !now.Before(deadline) {
		log.Warn("notification given up", "status", status, "err", reason, "queued", d.Queued)
		s.o.Observer.Observe(string(r.Format), OutcomeGaveUp)
		return nil, s.o.Outbox.GaveUp(ctx, d.Key(), now, reason)
	}
	wait := backoff[min(attempt, len(backoff))-1]
	wait = max(s.o.Jitter(wait), min(retryAfter, maxRetryAfter))
	next := now.Add(wait)
	if next.After(deadline) {
		next = deadline // the last attempt
	}
	log.Warn("notification not delivered; will retry", "status", status, "err", reason, "next_attempt", next)
	s.o.Observer.Observe(string(r.Format), OutcomeRetry)
	return &failure{next: next, reason: reason}, s.o.Outbox.Retry(ctx, d.Key(), attempt, next, reason)
}

// holdBack puts off a delivery to a receiver that failed earlier in this pass, without an
// attempt, to when the failed delivery is attempted again; one queued over a day ago gives up.
func (s *Sender) holdBack(ctx context.Context, d Delivery, f failure) error {
	now := s.o.Clock.Now()
	reason := "not attempted: the receiver failed just before: " + f.reason
	if !now.Before(d.Queued.Add(GiveUpAfter)) {
		s.o.Observer.Observe(formatOfKey(d.Receiver), OutcomeGaveUp)
		return s.o.Outbox.GaveUp(ctx, d.Key(), now, reason)
	}
	return s.o.Outbox.Retry(ctx, d.Key(), d.Attempts, f.next, reason)
}

// unknownReceiver handles a delivery to a receiver this replica does not have: another
// replica's setting during a rolling change, or a receiver since removed, which a day later
// gives up.
func (s *Sender) unknownReceiver(ctx context.Context, d Delivery, now time.Time) error {
	const reason = "no receiver with this key in the setting of the replica sending"
	if !now.Before(d.Queued.Add(GiveUpAfter)) {
		s.o.Logger.Warn("notification given up: its receiver is not configured", "notification_id", d.Notification.ID, "receiver_key", d.Receiver)
		s.o.Observer.Observe(formatOfKey(d.Receiver), OutcomeGaveUp)
		return s.o.Outbox.GaveUp(ctx, d.Key(), now, reason)
	}
	return s.o.Outbox.Retry(ctx, d.Key(), d.Attempts, now.Add(unknownReceiverWait), reason)
}

// formatOfKey is the format a receiver key names (Receiver.Key begins with it).
func formatOfKey(key string) string {
	f, _, _ := strings.Cut(key, "-")
	switch Format(f) {
	case Standard, Teams, Slack:
		return f
	}
	return "unknown"
}

// post makes one attempt: the status (0 when no answer came), the Retry-After asked for, and
// why it failed in words that hold neither the URL nor the secret.
func (s *Sender) post(ctx context.Context, r Receiver, n Notification, now time.Time) (status int, retryAfter time.Duration, reason string) {
	body, header, err := r.Format.body(n, s.o.Secret, now)
	if err != nil {
		return 0, 0, "the message cannot be made: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		return 0, 0, r.redact("the request cannot be made: " + err.Error())
	}
	req.Header = header
	req.Header.Set("User-Agent", "pcsupport-notify")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, r.redact(noAnswer(err, s.o.AttemptTimeout))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, ""
	}
	reason = "HTTP " + strconv.Itoa(resp.StatusCode)
	if text := printable(string(head)); text != "" {
		reason += ": " + text
	}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		reason += " (a redirect, not followed: set the receiver's new URL)"
	}
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), now), r.redact(reason)
}

// body makes the message in the receiver's format.
func (f Format) body(n Notification, secret Secret, now time.Time) ([]byte, http.Header, error) {
	switch f {
	case Teams:
		return TeamsBody(n)
	case Slack:
		return SlackBody(n)
	}
	return StandardBody(n, secret, now)
}

// noAnswer says why no answer came, without the URL that net/http puts in its errors.
func noAnswer(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Sprintf("no answer within %s", timeout)
		}
		err = ue.Err
	}
	return "no answer: " + err.Error()
}

// parseRetryAfter reads Retry-After: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// printable is the start of a body fit for a log line: one line of printable text.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// processLock is the default Locker: one Sender at a time in this process.
type processLock struct{ ch chan struct{} }

func (l *processLock) Lock(ctx context.Context, _ string) (func(), error) {
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
