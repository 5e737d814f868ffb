package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/auth"
	"pcsupport/internal/history"
)

// fakeWatches keeps watches in memory; the token handed over and the seal are fakes too.
type fakeWatches struct {
	mu       sync.Mutex
	watches  map[string]history.Watch
	err      error
	handOver error
	handed   int
}

func (f *fakeWatches) Watch(_ context.Context, tenantID string) (history.Watch, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.watches[tenantID]
	return w, ok, f.err
}

func (f *fakeWatches) StartWatch(_ context.Context, w history.Watch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.watches[w.TenantID] = w
	return nil
}

func (f *fakeWatches) EndWatch(_ context.Context, tenantID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.watches, tenantID)
	return f.err
}

func (f *fakeWatches) HandOverRefreshToken(http.ResponseWriter, *http.Request) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handOver != nil {
		return "", f.handOver
	}
	f.handed++
	return fmt.Sprintf("refresh-%d", f.handed), nil
}

func (f *fakeWatches) Seal(tenantID, token string) (string, error) {
	return "sealed(" + tenantID + "," + token + ")", nil
}

func newWatchTestbed(t *testing.T) (*testbed, *fakeWatches) {
	fw := &fakeWatches{watches: map[string]history.Watch{}}
	tb := newTestbed(t, func(o *Options) {
		o.Watches, o.WatchTokens, o.WatchSeal, o.WatchInterval = fw, fw, fw, 15*time.Minute
	})
	return tb, fw
}

func TestWatchPanelWhenNoneRuns(t *testing.T) {
	tb, _ := newWatchTestbed(t)
	for lang, want := range map[string][]string{
		"en": {"Watch for changes made outside this app", "are noticed only when someone opens this app", "every 15\u00a0min", "keeps your refresh token, sealed"},
		"fr": {"Surveiller les modifications faites hors de cette application", "à intervalles de 15\u00a0min", "garde alors votre jeton d’actualisation, scellé"},
	} {
		_, doc := tb.request(http.MethodGet, "/", nil, "Accept-Language", lang)
		panel := doc.Find("#watch")
		for _, w := range want {
			if !strings.Contains(panel.Text(), w) {
				t.Errorf("%s: the panel does not say %q: %s", lang, w, panel.Text())
			}
		}
		form := panel.Find(`form[method="post"][action="/watch/start"]`)
		if form.Length() != 1 || form.Find(`input[name="_csrf"]`).AttrOr("value", "") != testCSRF {
			t.Errorf("%s: no start form with the CSRF token", lang)
		}
		label := map[string]string{"en": "Watch for changes made outside this app with my sign-in", "fr": "Surveiller les modifications faites hors de cette application avec ma connexion"}[lang]
		if got := strings.TrimSpace(form.Find("button").Text()); got != label {
			t.Errorf("%s: button %q, want %q", lang, got, label)
		}
	}
	// The profile form's values are not the watch's: its form stays apart.
	_, doc := tb.request(http.MethodGet, "/", nil)
	if doc.Find("#profile #watch").Length() != 0 {
		t.Error("the watch is inside the profile fragment")
	}
}

func TestStartingAndStoppingTheWatch(t *testing.T) {
	tb, fw := newWatchTestbed(t)
	rec, _ := tb.request(http.MethodPost, "/watch/start", url.Values{})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/#watch" {
		t.Fatalf("start: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	w, ok, _ := fw.Watch(context.Background(), "tid-contoso")
	if !ok || !w.Active || w.Token != "sealed(tid-contoso,refresh-1)" || w.StartedBy.Name != "Ada Admin" || w.StartedBy.ObjectID != "oid-ada" || w.StartedAt.IsZero() {
		t.Fatalf("watch kept: %+v", w)
	}
	for lang, want := range map[string][]string{
		"en": {"Watching: the support profile is read every 15\u00a0min", "Started by Ada Admin, ", "UTC", "Not read yet: the first read comes within 15\u00a0min", "Stopping deletes the kept sign-in."},
		"fr": {"Surveillance en cours\u00a0: le profil de support est lu à intervalles de 15\u00a0min", "Lancée par Ada Admin, ", "Pas encore lu\u00a0: la première lecture a lieu d’ici 15\u00a0min", "L’arrêt supprime la connexion gardée."},
	} {
		_, doc := tb.request(http.MethodGet, "/", nil, "Accept-Language", lang)
		panel := doc.Find("#watch")
		for _, s := range want {
			if !strings.Contains(panel.Text(), s) {
				t.Errorf("%s: the panel does not say %q: %s", lang, s, panel.Text())
			}
		}
		if panel.Find(`form[action="/watch/stop"] button`).Length() != 1 {
			t.Errorf("%s: no stop button", lang)
		}
	}
	read := time.Date(2026, 11, 28, 10, 42, 0, 0, time.UTC)
	w.LastReadAt = read
	fw.watches["tid-contoso"] = w
	_, doc := tb.request(http.MethodGet, "/", nil)
	if !strings.Contains(doc.Find("#watch").Text(), "Last read: 28 Nov 2026, 10:42 UTC.") {
		t.Errorf("last read: %s", doc.Find("#watch").Text())
	}

	// Starting again replaces the watch, with a new token.
	tb.request(http.MethodPost, "/watch/start", url.Values{})
	if w, _, _ := fw.Watch(context.Background(), "tid-contoso"); w.Token != "sealed(tid-contoso,refresh-2)" {
		t.Errorf("started again: %+v", w)
	}

	rec, _ = tb.request(http.MethodPost, "/watch/stop", url.Values{})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("stop: %d", rec.Code)
	}
	if _, ok, _ := fw.Watch(context.Background(), "tid-contoso"); ok {
		t.Error("the watch and its token are still kept after stopping")
	}
	if !strings.Contains(tb.audit.String(), `"msg":"watch started"`) || !strings.Contains(tb.audit.String(), `"msg":"watch stopped"`) {
		t.Errorf("audit: %s", tb.audit.String())
	}
	if strings.Contains(tb.audit.String(), "refresh-") {
		t.Error("the audit shows a token")
	}
}

func TestAStoppedWatchSaysWhenAndWhy(t *testing.T) {
	tb, fw := newWatchTestbed(t)
	fw.watches["tid-contoso"] = history.Watch{TenantID: "tid-contoso", StartedBy: history.Person{Name: "Bob Boss"}, StartedAt: time.Now().Add(-time.Hour),
		StoppedAt: time.Date(2026, 11, 28, 10, 42, 0, 0, time.UTC), StopReason: "refresh token refused (invalid_grant: AADSTS50076 MFA required)"}
	for lang, want := range map[string][]string{
		"en": {"The watch stopped", "It stopped 28 Nov 2026, 10:42 UTC, because Microsoft refused the kept sign-in of Bob Boss: refresh token refused (invalid_grant: AADSTS50076 MFA required)",
			"until an admin starts the watch again"},
		"fr": {"La surveillance s’est arrêtée", "Elle s’est arrêtée 28 nov. 2026, 10:42 UTC, car Microsoft a refusé la connexion gardée de Bob Boss\u00a0: refresh token refused",
			"jusqu’à ce qu’un administrateur relance la surveillance"},
	} {
		_, doc := tb.request(http.MethodGet, "/", nil, "Accept-Language", lang)
		stopped := doc.Find("#watch #watch-stopped")
		for _, s := range want {
			if !strings.Contains(stopped.Text(), s) {
				t.Errorf("%s: does not say %q: %s", lang, s, stopped.Text())
			}
		}
		if doc.Find(`#watch form[action="/watch/start"]`).Length() != 1 {
			t.Errorf("%s: no way to start it again", lang)
		}
	}
}

func TestWhoMayStartTheWatch(t *testing.T) {
	tb, fw := newWatchTestbed(t)
	tb.auth.roleRefused = true // Partner Center refused this person's save for their role
	_, doc := tb.request(http.MethodGet, "/", nil)
	if doc.Find("#watch form").Length() != 0 || !strings.Contains(doc.Find("#watch").Text(), "Only someone whose role may change the support profile") {
		t.Errorf("a person whose role was refused gets: %s", doc.Find("#watch").Text())
	}
	rec, doc := tb.request(http.MethodPost, "/watch/start", url.Values{})
	if rec.Code != http.StatusForbidden || !strings.Contains(doc.Text(), "Only someone whose role") || fw.handed != 0 || len(fw.watches) != 0 {
		t.Errorf("start by a person whose role was refused: %d, %d tokens handed over", rec.Code, fw.handed)
	}
	_, doc = tb.request(http.MethodGet, "/", nil, "Accept-Language", "fr")
	if !strings.Contains(doc.Find("#watch").Text(), "Seule une personne dont le rôle permet de modifier le profil de support") {
		t.Errorf("fr: %s", doc.Find("#watch").Text())
	}

	// A Global Administrator may, whatever the note says.
	ga := signedInAda
	ga.DirectoryRoles = []string{"62e90394-69f5-4237-9190-012177145e10"}
	tb.auth.user = &ga
	if rec, _ := tb.request(http.MethodPost, "/watch/start", url.Values{}); rec.Code != http.StatusSeeOther || len(fw.watches) != 1 {
		t.Errorf("start by a Global Administrator: %d", rec.Code)
	}
}

func TestStartingTheWatchWithoutATokenToKeep(t *testing.T) {
	tb, fw := newWatchTestbed(t)
	fw.handOver = fmt.Errorf("the session keeps no refresh token: %w", auth.ErrSignInRequired)
	rec, _ := tb.request(http.MethodPost, "/watch/start", url.Values{})
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "auth/signin") || len(fw.watches) != 0 {
		t.Errorf("no refresh token: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	fw.handOver = fmt.Errorf("refresh: %w", auth.ErrSignInProviderUnavailable)
	rec, doc := tb.request(http.MethodPost, "/watch/start", url.Values{}, "Accept-Language", "fr")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(doc.Text(), "La connexion Microsoft n’a pas répondu") {
		t.Errorf("provider down: %d %s", rec.Code, doc.Find("main").Text())
	}
	fw.handOver, fw.err = nil, errors.New("database down")
	rec, doc = tb.request(http.MethodPost, "/watch/start", url.Values{})
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(doc.Text(), "the change history does not answer") {
		t.Errorf("history down: %d %s", rec.Code, doc.Find("main").Text())
	}
	_, doc = tb.request(http.MethodGet, "/", nil)
	if !strings.Contains(doc.Find("#watch").Text(), "cannot be shown or changed right now") {
		t.Errorf("page with the history down: %s", doc.Find("#watch").Text())
	}
}

func TestWatchNeedsTheCSRFToken(t *testing.T) {
	tb, fw := newWatchTestbed(t)
	for _, path := range []string{"/watch/start", "/watch/stop"} {
		if rec, _ := tb.request(http.MethodPost, path, url.Values{csrfField: {"forged"}}); rec.Code != http.StatusForbidden {
			t.Errorf("%s with a forged token: %d", path, rec.Code)
		}
	}
	if fw.handed != 0 {
		t.Error("a token was handed over on a forged request")
	}
}
