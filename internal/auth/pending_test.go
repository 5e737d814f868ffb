package auth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Several tabs signing in at once each finish, in any order, where they were going; a callback
// that comes back again (reloaded, replayed) is refused.
func TestTabsSignInAtOnce(t *testing.T) {
	t.Parallel()
	m, p, _ := clockedApp(t)
	b := newBrowser(t)
	targets := []string{"/history", "/?tab=contacts", "/history?page=2"}
	var authURLs []string
	for _, target := range targets {
		authURLs = append(authURLs, b.startSignIn(m, target))
	}
	for i := len(targets) - 1; i >= 0; i-- {
		got, err := b.finish(m, p, authURLs[i], ada)
		if err != nil || got != targets[i] {
			t.Errorf("tab %d lands on %q (%v), want %q", i, got, err, targets[i])
		}
	}
	if left := b.pending(); len(left) != 0 {
		t.Errorf("sign-ins finished, yet the browser still holds %v", left)
	}
	if got, err := b.finish(m, p, authURLs[0], ada); !errors.Is(err, ErrSignInState) || got != "/" {
		t.Errorf("a callback replayed: %q, %v; want ErrSignInState and the start page", got, err)
	}
}

// A browser holds three sign-ins under way at most, whatever it starts: a fourth takes the
// place of the oldest, whose callback is then refused, and what the browser sends to the sign-in
// routes stays small.
func TestAFourthSignInReplacesTheOldest(t *testing.T) {
	t.Parallel()
	m, p, clock := clockedApp(t)
	b := newBrowser(t)
	targets := []string{"/a", "/b", "/c", "/d"}
	var authURLs []string
	for _, target := range targets {
		authURLs = append(authURLs, b.startSignIn(m, target))
		clock.Advance(time.Minute)
	}
	if n := len(b.pending()); n != pendingSlots {
		t.Fatalf("the browser holds %d sign-ins under way, want %d", n, pendingSlots)
	}
	if _, err := b.finish(m, p, authURLs[0], ada); !errors.Is(err, ErrSignInState) {
		t.Errorf("the oldest sign-in, replaced: %v, want ErrSignInState", err)
	}
	for i := 1; i < len(targets); i++ {
		if got, err := b.finish(m, p, authURLs[i], ada); err != nil || got != targets[i] {
			t.Errorf("sign-in %d lands on %q (%v), want %q", i, got, err, targets[i])
		}
	}

	// Twenty tabs with the longest return target the app keeps: the cookies sent to the sign-in
	// routes, the session's included, leave room under the 8 KB of a header that proxies accept.
	long := "/?q=" + strings.Repeat("a", maxReturnTo-len("/?q="))
	for range 20 {
		b.startSignIn(m, long)
	}
	header := b.request("GET", "/auth/callback").Header.Get("Cookie")
	if len(b.pending()) != pendingSlots || len(header) > 6<<10 {
		t.Errorf("after 20 tabs the browser holds %d sign-ins under way and sends %d bytes of cookies to /auth/", len(b.pending()), len(header))
	}
}

// A sign-in that took longer than pendingLifetime is refused when it comes back (its cookie is
// dropped); one in time is not.
func TestASignInTooLongUnderWayIsRefused(t *testing.T) {
	t.Parallel()
	m, p, clock := clockedApp(t)
	b := newBrowser(t)
	late := b.startSignIn(m, "/history")
	clock.Advance(pendingLifetime + time.Second)
	if got, err := b.finish(m, p, late, ada); !errors.Is(err, ErrSignInState) || got != "/" {
		t.Errorf("a sign-in back after %v: %q, %v; want ErrSignInState and the start page", pendingLifetime+time.Second, got, err)
	}
	if left := b.pending(); len(left) != 0 {
		t.Errorf("the expired sign-in's cookie is kept: %v", left)
	}

	inTime := b.startSignIn(m, "/history")
	clock.Advance(pendingLifetime - time.Second)
	if got, err := b.finish(m, p, inTime, ada); err != nil || got != "/history" {
		t.Errorf("a sign-in back in time: %q, %v", got, err)
	}
}

// Slots holding what cannot be read (sealed with keys the app no longer has, or garbage) or a
// sign-in too old to finish are free: three new tabs all finish.
func TestUnusableSignInsLeaveTheirSlotsFree(t *testing.T) {
	t.Parallel()
	m, p, clock := clockedApp(t)
	b := newBrowser(t)
	b.startSignIn(m, "/stale") // takes a slot, then expires
	clock.Advance(pendingLifetime + time.Minute)
	for slot := range pendingSlots {
		if name := pendingSlotName(slot); !b.has(name) {
			b.jar[name] = &http.Cookie{Name: name, Value: "sealed-with-a-retired-key", Path: "/auth/"}
		}
	}
	targets := []string{"/a", "/b", "/c"}
	var authURLs []string
	for _, target := range targets {
		authURLs = append(authURLs, b.startSignIn(m, target))
	}
	for i, target := range targets {
		if got, err := b.finish(m, p, authURLs[i], ada); err != nil || got != target {
			t.Errorf("sign-in %d lands on %q (%v), want %q", i, got, err, target)
		}
	}
}

// An older release named each sign-in's cookie by a hash (pcs_signin_<hash>): starting a sign-in
// drops them, so they no longer add to every request to the sign-in routes.
func TestOldSignInCookiesAreDropped(t *testing.T) {
	t.Parallel()
	m, p, _ := clockedApp(t)
	b := newBrowser(t)
	for _, name := range []string{"pcs_signin_3f2a9c01d4e5b6a7", "pcs_signin_00aa11bb22cc33dd"} {
		b.jar[name] = &http.Cookie{Name: name, Value: "an old sign-in", Path: "/auth/"}
	}
	authURL := b.startSignIn(m, "/")
	if left := b.pending(); len(left) != 1 || !isPendingSlot(left[0]) {
		t.Errorf("after starting a sign-in the browser holds %v, want one slot and no old cookie", left)
	}
	if _, err := b.finish(m, p, authURL, ada); err != nil {
		t.Errorf("sign-in: %v", err)
	}
}

// A callback that is not the answer to a sign-in of this browser starts no session and lands
// on the start page; a provider's refusal keeps where the person was going, for "try again",
// and its words reach the log.
func TestCallbacksThatFinishNoSignIn(t *testing.T) {
	t.Parallel()
	m, p, _ := clockedApp(t)
	b := newBrowser(t)
	authURL := b.startSignIn(m, "/history")
	for name, q := range map[string]url.Values{
		"no state":      {"code": {"c"}},
		"unknown state": {"state": {"not-ours"}, "code": {"c"}},
	} {
		if got, err := b.callback(m, q); !errors.Is(err, ErrSignInState) || got != "/" {
			t.Errorf("%s: %q, %v; want ErrSignInState and the start page", name, got, err)
		}
	}
	if _, err := b.currentUser(m); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("signed in by a callback that was not ours: %v", err)
	}

	// Another browser, with the state but not the cookie (a link sent to someone), is refused.
	other := newBrowser(t)
	if _, err := other.finish(m, p, authURL, bob); !errors.Is(err, ErrSignInState) {
		t.Errorf("the callback in another browser: %v, want ErrSignInState", err)
	}

	got, err := b.callback(m, url.Values{"state": {stateOf(t, authURL)}, "error": {"access_denied"},
		"error_description": {"AADSTS65004: User declined to consent to access the app."}})
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Code != "access_denied" || got != "/history" {
		t.Fatalf("the provider's refusal: %q, %v; want a *ProviderError and /history", got, err)
	}
	if msg := pe.Error(); !strings.Contains(msg, "access_denied") || !strings.Contains(msg, "AADSTS65004") {
		t.Errorf("the refusal reads %q, without the provider's code and words", msg)
	}

	authURL = b.startSignIn(m, "/history")
	got, err = b.callback(m, url.Values{"state": {stateOf(t, authURL)}})
	if err == nil || errors.Is(err, ErrSignInState) || got != "/history" {
		t.Errorf("neither code nor error: %q, %v", got, err)
	}
}
