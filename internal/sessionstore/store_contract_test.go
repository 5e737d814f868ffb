package sessionstore

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"pcsupport/internal/testkit"
)

// storeBacking is one place sessions live (a directory, a Redis key space). The stores opened
// on it share it, as replicas do.
type storeBacking struct {
	open   func(opts CookieOptions, keyPairs ...[]byte) Store
	atRest func() map[string][]byte       // every stored session, raw, by where it lies
	spoil  func(where string, raw []byte) // replaces a stored session's bytes, where atRest names it
}

// storeContract is what the app needs of every session store. newBacking makes an empty
// backing for each subtest.
func storeContract(t *testing.T, newBacking func(t *testing.T) storeBacking) {
	opts := CookieOptions{Path: "/partner/support/", Secure: true, Lifetime: 8 * time.Hour}
	keys := func() [][]byte {
		return [][]byte{securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32)}
	}

	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		store := newBacking(t).open(opts, keys()...)
		s, err := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		if err != nil || !s.IsNew {
			t.Fatalf("New without a cookie: IsNew %v, err %v; want a new session", s.IsNew, err)
		}
		want := realisticSession()
		s.Values["data"] = want
		c := save(t, store, s)
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != opts.Path || c.MaxAge != int(opts.Lifetime/time.Second) {
			t.Errorf("cookie attributes %+v", c)
		}
		got := load(t, store, c)
		if got.IsNew || got.ID != s.ID || !reflect.DeepEqual(got.Values["data"], want) {
			t.Errorf("loaded IsNew %v, ID %q (saved %q), data equal %v", got.IsNew, got.ID, s.ID, reflect.DeepEqual(got.Values["data"], want))
		}
	})

	t.Run("encrypted at rest, cookie only a reference", func(t *testing.T) {
		t.Parallel()
		b := newBacking(t)
		store := b.open(opts, keys()...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		d := realisticSession()
		s.Values["data"] = d
		c := save(t, store, s)
		secrets := map[string]string{"access token": d.Tokens.Access, "refresh token": d.Tokens.Refresh,
			"user name": d.User.Username, "access token's signature": d.Tokens.Access[len(d.Tokens.Access)-40:]}
		rest := b.atRest()
		if len(rest) != 1 {
			t.Fatalf("%d sessions at rest, want 1", len(rest))
		}
		for where, raw := range rest {
			for what, secret := range secrets {
				if strings.Contains(string(raw), secret) {
					t.Errorf("%s is readable at rest in %s", what, where)
				}
				if strings.Contains(c.Value, secret) {
					t.Errorf("%s is in the cookie", what)
				}
			}
		}
		if len(c.Value) > 300 {
			t.Errorf("cookie value is %d bytes: more than a reference", len(c.Value))
		}
	})

	t.Run("delete", func(t *testing.T) {
		t.Parallel()
		b := newBacking(t)
		store := b.open(opts, keys()...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		c := save(t, store, s)
		s = load(t, store, c)
		s.Options.MaxAge = -1
		cleared := save(t, store, s)
		if cleared.MaxAge >= 0 || cleared.Value != "" {
			t.Errorf("deleting set cookie %q with MaxAge %d, want it cleared", cleared.Value, cleared.MaxAge)
		}
		if again := load(t, store, c); !again.IsNew {
			t.Error("the deleted session still loads from its old cookie")
		}
		if n := len(b.atRest()); n != 0 {
			t.Errorf("%d sessions left at rest after deleting the only one", n)
		}
	})

	t.Run("end: the cookie expired and the session deleted, without reading it first", func(t *testing.T) {
		t.Parallel()
		b := newBacking(t)
		store := b.open(opts, keys()...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		c := save(t, store, s)
		req := httptest.NewRequest("POST", "/auth/signout", nil)
		req.AddCookie(c)
		rec := httptest.NewRecorder()
		if err := store.End(req, rec, sessionCookie); err != nil {
			t.Fatal(err)
		}
		if cleared := rec.Result().Cookies(); len(cleared) != 1 || cleared[0].MaxAge >= 0 || cleared[0].Value != "" || cleared[0].Path != opts.Path {
			t.Errorf("End set cookies %+v, want the session cookie expired", cleared)
		}
		if again := load(t, store, c); !again.IsNew {
			t.Error("the ended session still loads from its old cookie")
		}
		if n := len(b.atRest()); n != 0 {
			t.Errorf("%d sessions left at rest after ending the only one", n)
		}
		// Without a cookie, or with one not ours, the cookie is still expired.
		rec = httptest.NewRecorder()
		if err := store.End(httptest.NewRequest("POST", "/", nil), rec, sessionCookie); err != nil || len(rec.Result().Cookies()) != 1 {
			t.Errorf("End without a session: %v, cookies %+v", err, rec.Result().Cookies())
		}
	})

	t.Run("expires with the session lifetime", func(t *testing.T) {
		t.Parallel()
		short := opts
		short.Lifetime = time.Second
		store := newBacking(t).open(short, keys()...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		c := save(t, store, s)
		if load(t, store, c).IsNew {
			t.Fatal("the session is gone at once")
		}
		// Expiry is counted in whole seconds: a one-second session lives at most two.
		deadline := time.Now().Add(4 * time.Second)
		for !load(t, store, c).IsNew {
			if time.Now().After(deadline) {
				t.Fatal("the session outlived its lifetime by more than 3 s")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	// Stores keep recently read sessions decoded (sessionCache). What another replica writes or
	// deletes must still be seen by the very next read.
	t.Run("a refresh or a sign-out through another replica is seen at once", func(t *testing.T) {
		t.Parallel()
		b, pair := newBacking(t), keys()
		one, two := b.open(opts, pair...), b.open(opts, pair...)
		s, _ := one.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		d := realisticSession()
		s.Values["data"] = d
		c := save(t, one, s)
		for range 2 { // read twice: the second read is the cached one
			if got := load(t, two, c); got.IsNew || !reflect.DeepEqual(got.Values["data"], d) {
				t.Fatalf("replica two does not read the session replica one saved (IsNew %v)", got.IsNew)
			}
		}

		refreshed := load(t, one, c)
		d.Tokens.Access, d.Tokens.Refresh = jwtLike(2500), "0.AXEA"+randomText(1494)
		refreshed.Values["data"] = d
		save(t, one, refreshed)
		if got := load(t, two, c).Values["data"].(sessionData); got.Tokens.Refresh != d.Tokens.Refresh {
			t.Error("replica two still hands out the refresh token replica one replaced")
		}

		out := load(t, one, c)
		out.Options.MaxAge = -1
		save(t, one, out)
		if got := load(t, two, c); !got.IsNew {
			t.Error("replica two still has the session replica one signed out")
		}
	})

	t.Run("what a read hands out is a copy", func(t *testing.T) {
		t.Parallel()
		store := newBacking(t).open(opts, keys()...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		s.AddFlash([]byte("Saved"))
		c := save(t, store, s)
		load(t, store, c)
		first := load(t, store, c) // read again: from the cache where there is one
		first.AddFlash([]byte("not saved"))
		first.Values["data"] = sessionData{}
		again := load(t, store, c)
		if f := again.Flashes(); len(f) != 1 || reflect.DeepEqual(again.Values["data"], sessionData{}) {
			t.Errorf("a change nobody saved reached the next read: flashes %v", f)
		}
	})

	t.Run("concurrent saves", func(t *testing.T) {
		t.Parallel()
		store := newBacking(t).open(opts, keys()...)
		shared, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		shared.Values["n"] = -1
		sharedCookie := save(t, store, shared)

		const n = 20
		cookies := make([]*http.Cookie, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { // a session of its own
				s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
				s.Values["n"] = i
				cookies[i] = save(t, store, s)
			})
			wg.Go(func() { // and everyone writing the same one
				s := load(t, store, sharedCookie)
				s.Values["n"] = i
				save(t, store, s)
			})
		}
		wg.Wait()
		for i, c := range cookies {
			if got := load(t, store, c).Values["n"]; got != i {
				t.Errorf("session %d holds %v", i, got)
			}
		}
		s := load(t, store, sharedCookie)
		if got, ok := s.Values["n"].(int); s.IsNew || !ok || got < 0 || got >= n {
			t.Errorf("the session saved by every goroutine holds %v (IsNew %v), want one of their values", s.Values["n"], s.IsNew)
		}
	})

	t.Run("another instance with the same keys reads it", func(t *testing.T) {
		t.Parallel()
		b := newBacking(t)
		k := keys()
		one, two := b.open(opts, k...), b.open(opts, k...)
		s, _ := one.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		got := load(t, two, save(t, one, s))
		if got.IsNew || !reflect.DeepEqual(got.Values["data"], s.Values["data"]) {
			t.Error("a second store instance does not read the first one's session")
		}
		got.Values["n"] = 2
		if again := load(t, one, save(t, two, got)); again.Values["n"] != 2 {
			t.Error("the first instance does not see the second one's change")
		}
	})

	t.Run("key rotation keeps old sessions", func(t *testing.T) {
		t.Parallel()
		b := newBacking(t)
		oldKeys, newKeys := keys(), keys()
		before := b.open(opts, oldKeys...)
		s, _ := before.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		c := save(t, before, s)

		rotated := b.open(opts, append(newKeys, oldKeys...)...)
		got := load(t, rotated, c)
		if got.IsNew || !reflect.DeepEqual(got.Values["data"], s.Values["data"]) {
			t.Fatal("a store with the new keys first and the old ones after does not read an old session")
		}
		renewed := save(t, rotated, got) // written again, now with the new keys
		if got := load(t, b.open(opts, newKeys...), renewed); got.IsNew {
			t.Error("a session rewritten after the rotation needs the old keys")
		}
		if got, err := b.open(opts, newKeys...).New(requestWith(c), sessionCookie); !got.IsNew || err == nil {
			t.Errorf("a store without the old keys reads a session made with them (err %v)", err)
		}
	})

	t.Run("tampered cookie refused", func(t *testing.T) {
		t.Parallel()
		store := newBacking(t).open(opts, keys()...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		c := save(t, store, s)

		tampered := *c
		v := []byte(c.Value)
		mid := len(v) / 2
		v[mid] = map[bool]byte{true: 'A', false: 'B'}[v[mid] != 'A']
		tampered.Value = string(v)
		if got, err := store.New(requestWith(&tampered), sessionCookie); !got.IsNew || err == nil {
			t.Errorf("a tampered cookie loads a session (IsNew %v, err %v)", got.IsNew, err)
		}
		renamed := *c
		renamed.Name = "pcs_other" // the name is signed in: one session's cookie cannot pose as another's
		if got, err := store.New(requestWith(&renamed), "pcs_other"); !got.IsNew || err == nil {
			t.Errorf("a session cookie renamed loads a session (IsNew %v, err %v)", got.IsNew, err)
		}
	})

	// Something else wrote over the session (a tool, a disk error): the person is signed out,
	// and asked to sign in again, rather than told the store is down, which would last until
	// the session expired.
	t.Run("a session spoiled at rest reads as none, not as an outage", func(t *testing.T) {
		t.Parallel()
		for name, spoilt := range map[string][]byte{"garbage": []byte("not a session"), "empty": {}} {
			b := newBacking(t)
			store := b.open(opts, keys()...)
			s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
			s.Values["data"] = realisticSession()
			c := save(t, store, s)
			load(t, store, c) // and cached
			for where := range b.atRest() {
				b.spoil(where, spoilt)
			}
			got, err := store.New(requestWith(c), sessionCookie)
			if !got.IsNew || errors.Is(err, ErrUnavailable) {
				t.Errorf("%s at rest: IsNew %v, err %v; want a new session, and no outage", name, got.IsNew, err)
			}
			// Signing in again replaces it.
			fresh, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
			fresh.Values["data"] = realisticSession()
			if again := load(t, store, save(t, store, fresh)); again.IsNew {
				t.Errorf("%s at rest: the next session does not load", name)
			}
		}
	})

	// The cookie is signed, so only a holder of the keys could make one; even then, an id no
	// store could have made (a path, another alphabet, too long) names nothing: it is neither
	// read nor deleted.
	t.Run("a cookie naming a malformed session id reads and deletes nothing", func(t *testing.T) {
		t.Parallel()
		b, k := newBacking(t), keys()
		store := b.open(opts, k...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		real := save(t, store, s)
		forge := func(id string) *http.Cookie {
			value, err := securecookie.EncodeMulti(sessionCookie, id, securecookie.CodecsFromPairs(k...)...)
			if err != nil {
				t.Fatal(err)
			}
			return &http.Cookie{Name: sessionCookie, Value: value}
		}
		malformed := []string{"", "../../../etc/passwd", "session_" + s.ID, strings.ToLower(s.ID), strings.Repeat("A", 65), s.ID[:10] + "/" + s.ID[11:]}
		for _, id := range malformed {
			if got, err := store.New(requestWith(forge(id)), sessionCookie); !got.IsNew || err == nil {
				t.Errorf("id %q: IsNew %v, err %v; want a new session and an error", id, got.IsNew, err)
			}
		}
		unknown := s.ID[:len(s.ID)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(s.ID, "A")] // well made, never issued
		if got, err := store.New(requestWith(forge(unknown)), sessionCookie); !got.IsNew || err != nil {
			t.Errorf("an unknown id: IsNew %v, err %v; want a new session", got.IsNew, err)
		}
		for _, id := range append(malformed, unknown) {
			if err := store.End(requestWith(forge(id)), httptest.NewRecorder(), sessionCookie); err != nil {
				t.Errorf("id %q: End: %v", id, err)
			}
		}
		if got := load(t, store, real); got.IsNew || len(b.atRest()) != 1 {
			t.Errorf("the real session is gone (IsNew %v, %d at rest)", got.IsNew, len(b.atRest()))
		}
	})

	// Handlers of one request share its session (gorilla's registry): a change made by one is
	// what the next sees, without another read; another request reads what was saved.
	t.Run("one session per request through Get", func(t *testing.T) {
		t.Parallel()
		store := newBacking(t).open(opts, keys()...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		s.Values["data"] = realisticSession()
		c := save(t, store, s)
		r := requestWith(c)
		first, err := store.Get(r, sessionCookie)
		if err != nil || first.IsNew {
			t.Fatalf("Get: IsNew %v, %v", first.IsNew, err)
		}
		first.Values["n"] = 1
		if second, _ := store.Get(r, sessionCookie); second != first || second.Values["n"] != 1 {
			t.Error("a second Get in the same request is another session")
		}
		if other, _ := store.Get(requestWith(c), sessionCookie); other.Values["n"] != nil {
			t.Error("another request sees a change nobody saved")
		}
	})

	t.Run("an Entra-sized token set fits", func(t *testing.T) {
		t.Parallel()
		store := newBacking(t).open(opts, keys()...)
		s, _ := store.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
		d := realisticSession()
		s.Values["data"] = d
		s.Values["id_token"] = jwtLike(1500)
		s.AddFlash([]byte("Saved. Telephone: +33 1 23 45 67 89"))
		rec := httptest.NewRecorder()
		if err := s.Save(httptest.NewRequest("GET", "/", nil), rec); err != nil {
			t.Fatalf("save access %d B, refresh %d B, ID %d B: %v", len(d.Tokens.Access), len(d.Tokens.Refresh), 1500, err)
		}
		if h := rec.Header().Get("Set-Cookie"); len(h) > 1024 {
			t.Errorf("Set-Cookie is %d bytes; browsers keep about 4 KB per cookie and the session must not grow with the tokens", len(h))
		}
		got := load(t, store, rec.Result().Cookies()[0])
		if !reflect.DeepEqual(got.Values["data"], d) || got.Values["id_token"] != s.Values["id_token"] {
			t.Error("the token set did not come back whole")
		}
	})
}

func TestFilesystemStoreContract(t *testing.T) {
	t.Parallel()
	storeContract(t, func(t *testing.T) storeBacking {
		dir := t.TempDir()
		return storeBacking{
			open: func(opts CookieOptions, keyPairs ...[]byte) Store {
				s, err := NewFileStore(dir, opts, keyPairs...)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			atRest: func() map[string][]byte {
				files, _ := filepath.Glob(filepath.Join(dir, "session_*"))
				rest := map[string][]byte{}
				for _, f := range files {
					b, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					rest[filepath.Base(f)] = b
				}
				return rest
			},
			spoil: func(where string, raw []byte) {
				if err := os.WriteFile(filepath.Join(dir, where), raw, 0o600); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// realisticSession is a signed-in session with tokens of the sizes Entra ID issues: an access
// token for Partner Center of about 2.5 KB and a refresh token of about 1.5 KB.
func realisticSession() sessionData {
	now := time.Now().UTC().Truncate(time.Second)
	return sessionData{
		User: User{Subject: "sub-ada", ObjectID: "2f5e0d2c-1a3b-4c5d-8e9f-0a1b2c3d4e5f", TenantID: "4e5d6c7b-0a1b-2c3d-4e5f-6a7b8c9d0e1f",
			Name: "Ada Admin", Username: "ada.admin@contoso-partner.example", Email: "ada.admin@contoso-partner.example",
			AMR: []string{"pwd", "mfa"}, SignedInAt: now},
		Tokens: storedTokens{Access: jwtLike(2500), Refresh: "0.AXEA" + randomText(1494), Type: "Bearer",
			Expiry: now.Add(time.Hour), Obtained: now},
	}
}

// jwtLike is a random (so incompressible) string of n bytes shaped like a JWT.
func jwtLike(n int) string {
	head := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6IkwxS2ZLRklfam5YYndXYzIyeFp4dzFzVUhIMCJ9."
	rest := randomText(n - len(head) - 1)
	return head + rest[:len(rest)-342] + "." + rest[len(rest)-342:]
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

func save(t *testing.T, store sessions.Store, s *sessions.Session) *http.Cookie {
	t.Helper()
	return testkit.SaveSession(t, store, s)
}

func load(t *testing.T, store sessions.Store, c *http.Cookie) *sessions.Session {
	t.Helper()
	return testkit.LoadSession(store, c)
}

func requestWith(c *http.Cookie) *http.Request { return testkit.RequestWithCookie(c) }
