package watch

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
	"pcsupport/internal/keyedlock"
	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
	"pcsupport/internal/testkit"
)

// provider is a token endpoint that rotates refresh tokens, accepting each once.
type provider struct {
	mu      sync.Mutex
	valid   map[string]bool
	refuse  bool
	down    bool
	redeems int
}

func (p *provider) issue() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := "rt-" + rand.Text()
	p.valid[t] = true
	return t
}

func (p *provider) RedeemRefreshToken(_ context.Context, refresh string) (*oauth2.Token, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redeems++
	switch {
	case p.down:
		return nil, auth.ErrSignInProviderUnavailable
	case p.refuse || !p.valid[refresh]:
		return nil, &auth.RefusedError{Code: "invalid_grant", Description: "AADSTS700082: The refresh token has expired due to inactivity."}
	}
	delete(p.valid, refresh)
	next := "rt-" + rand.Text()
	p.valid[next] = true
	return &oauth2.Token{AccessToken: "at-" + rand.Text(), RefreshToken: next, Expiry: time.Now().Add(time.Hour)}, nil
}

// partnerCenter serves one profile, or fails.
type partnerCenter struct {
	mu      sync.Mutex
	contact support.Contact
	err     error
	tokens  []string
}

func (pc *partnerCenter) GetSupportProfile(_ context.Context, o pcclient.CallOptions) (pcclient.Profile, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	tok, _ := o.Token.Token()
	pc.tokens = append(pc.tokens, tok.AccessToken)
	if pc.err != nil {
		return pcclient.Profile{}, pc.err
	}
	return pcclient.Profile{Contact: pc.contact}, nil
}

func (pc *partnerCenter) set(c support.Contact, err error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.contact, pc.err = c, err
}

type bed struct {
	store history.Store
	idp   *provider
	pc    *partnerCenter
	seal  *auth.TokenSeal
	w     *Watcher
	logs  *testkit.SyncBuffer
}

func newBed(t *testing.T) *bed {
	t.Helper()
	store, err := history.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	store.NotifyTo([]string{"team"})
	b := &bed{store: store, idp: &provider{valid: map[string]bool{}},
		pc:   &partnerCenter{contact: support.Contact{Email: "a@contoso.example", Telephone: "+1 425 555 0100", Website: "www.contoso.example"}},
		seal: auth.NewTokenSeal([][]byte{[]byte(rand.Text() + rand.Text())[:32], []byte(rand.Text() + rand.Text())[:32]}),
		logs: &testkit.SyncBuffer{}}
	b.w = New(Options{Store: store, Tokens: b.idp, Seal: b.seal, Profiles: b.pc, Locker: &keyedlock.Locks{}, Interval: time.Second,
		Logger: slog.New(slog.NewTextHandler(b.logs, nil))})
	return b
}

func (b *bed) start(t *testing.T, tenant string) string {
	t.Helper()
	refresh := b.idp.issue()
	sealed, err := b.seal.Seal(tenant, refresh)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.StartWatch(context.Background(), history.Watch{TenantID: tenant, StartedAt: time.Now(),
		StartedBy: history.Person{Name: "Ada Admin", Username: "ada@contoso.example"}, Token: sealed}); err != nil {
		t.Fatal(err)
	}
	return refresh
}

func (b *bed) watch(t *testing.T, tenant string) history.Watch {
	t.Helper()
	w, ok, err := b.store.Watch(context.Background(), tenant)
	if !ok || err != nil {
		t.Fatalf("watch: %v %v", ok, err)
	}
	return w
}

func TestAPassRecordsAChangeMadeOutsideAndRenewsTheToken(t *testing.T) {
	ctx := context.Background()
	b := newBed(t)
	first := b.start(t, "t1")
	before := b.watch(t, "t1")
	b.w.Pass(ctx)
	after := b.watch(t, "t1")
	if after.Token == before.Token || after.LastReadAt.IsZero() {
		t.Fatalf("after a pass: token renewed %v, last read %v", after.Token != before.Token, after.LastReadAt)
	}
	if kept, _ := b.seal.Open("t1", after.Token); kept == first || !b.idp.valid[kept] {
		t.Errorf("the kept token is not the rotated one the provider accepts")
	}
	changed := b.pc.contact.With(support.Telephone, "+1 425 555 0199")
	b.pc.set(changed, nil)
	// The next pass comes an interval later: the read of a moment ago is not done again sooner.
	b.w.o.Now = func() time.Time { return time.Now().Add(time.Second) }
	b.w.Pass(ctx)
	e, ok, err := b.store.LastChange(ctx, "t1")
	if !ok || err != nil || e.Kind != history.KindOutside || e.After != changed {
		t.Fatalf("last change %+v (ok %v, err %v), want the outside change", e, ok, err)
	}
	due, _ := b.store.Due(ctx, time.Now().Add(time.Hour), 10)
	if len(due) != 1 || due[0].Notification.Kind != "outside" {
		t.Errorf("notifications queued %+v, want the outside change", due)
	}
	for _, line := range strings.Split(b.logs.String(), "\n") {
		for tok := range b.idp.valid {
			if strings.Contains(line, tok) {
				t.Errorf("the log shows a refresh token: %s", line)
			}
		}
		for _, at := range b.pc.tokens {
			if strings.Contains(line, at) {
				t.Errorf("the log shows an access token: %s", line)
			}
		}
	}
}

func TestTransientFailuresKeepTheWatch(t *testing.T) {
	ctx := context.Background()
	b := newBed(t)
	b.start(t, "t1")
	b.idp.down = true
	b.w.Pass(ctx)
	b.idp.down = false
	b.pc.set(support.Contact{}, &pcclient.Error{Kind: pcclient.KindThrottled, Status: 429})
	b.w.Pass(ctx)
	w := b.watch(t, "t1")
	if !w.Active || w.Token == "" || !w.LastReadAt.IsZero() {
		t.Fatalf("after transient failures: %+v, want still active, not read", w)
	}
	b.pc.set(support.Contact{Email: "a@contoso.example"}, nil)
	b.w.Pass(ctx)
	if w := b.watch(t, "t1"); !w.Active || w.LastReadAt.IsZero() {
		t.Errorf("the next interval did not read: %+v", w)
	}
	if !strings.Contains(b.logs.String(), "trying again at the next interval") {
		t.Errorf("failures not logged:\n%s", b.logs.String())
	}
}

func TestARefusedTokenStopsTheWatchAndTellsTheTeam(t *testing.T) {
	ctx := context.Background()
	b := newBed(t)
	b.start(t, "t1")
	b.idp.refuse = true
	b.w.Pass(ctx)
	w := b.watch(t, "t1")
	if w.Active || w.Token != "" || w.StoppedAt.IsZero() || !strings.Contains(w.StopReason, "AADSTS700082") {
		t.Fatalf("after a refusal: %+v, want stopped with the provider's words and no token", w)
	}
	due, _ := b.store.Due(ctx, time.Now().Add(time.Hour), 10)
	if len(due) != 1 || due[0].Notification.Kind != "watch_stopped" || due[0].Notification.By.Name != "Ada Admin" {
		t.Errorf("notifications queued %+v, want that the watch stopped", due)
	}
	redeems := b.idp.redeems
	b.w.Pass(ctx)
	if b.idp.redeems != redeems {
		t.Error("a stopped watch is still tried")
	}
}

func TestATokenSealedWithOtherKeysStopsTheWatch(t *testing.T) {
	b := newBed(t)
	b.start(t, "t1")
	b.w.o.Seal = auth.NewTokenSeal([][]byte{[]byte(rand.Text() + rand.Text())[:32], []byte(rand.Text() + rand.Text())[:32]})
	b.w.Pass(context.Background())
	if w := b.watch(t, "t1"); w.Active || !strings.Contains(w.StopReason, "session keys") {
		t.Errorf("after the session keys changed: %+v", w)
	}
	if b.idp.redeems != 0 {
		t.Error("a token that cannot be opened was sent")
	}
}

// failingObserve is the history with Observe failing, as a database that went away.
type failingObserve struct{ history.Store }

func (failingObserve) Observe(context.Context, string, support.Contact, time.Time) error {
	return errors.New("database is locked")
}

func TestAHistoryWriteThatFailsIsCountedAndTriedAgain(t *testing.T) {
	b := newBed(t)
	b.start(t, "t1")
	var failed []string
	b.w.o.Store = failingObserve{b.store}
	b.w.o.HistoryWriteFailed = func(write string) { failed = append(failed, write) }
	b.w.Pass(context.Background())
	if len(failed) != 1 || failed[0] != "observe" {
		t.Errorf("failed writes counted: %q, want one observe", failed)
	}
	if w := b.watch(t, "t1"); !w.Active || !w.LastReadAt.IsZero() {
		t.Errorf("after a failed write: %+v, want active and not read", w)
	}
}
