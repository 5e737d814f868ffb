package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/redis/go-redis/v9"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/sessionstore"
	"pcsupport/internal/testkit"
)

// When the session store does not answer, the person is not told they are signed out: signing
// in would fail too.
func TestSessionStoreDownIsNotSignedOut(t *testing.T) {
	keys := testKeys()
	files, err := sessionstore.NewFileStore(t.TempDir(), sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, keys...)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := files.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
	c := testkit.SaveSession(t, files, s) // a well-sealed cookie, for a store that cannot be read

	gone := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer gone.Close()
	down := sessionstore.NewRedisStore(gone, sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, keys...)
	m, err := New(Config{Issuer: "http://127.0.0.1:1", ClientID: "c", ClientCredential: clientauth.Secret("s"), RedirectURL: "http://x/cb",
		Store: down, CookieKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CurrentUser(testkit.RequestWithCookie(c)); !errors.Is(err, sessionstore.ErrUnavailable) {
		t.Errorf("CurrentUser with Redis down: %v, want ErrUnavailable", err)
	}
}

// Signing out while the session store does not answer still signs the person out of this
// browser (every cookie dropped), and says the stored session waits to be deleted.
func TestSignOutWithTheSessionStoreDown(t *testing.T) {
	keys := testKeys()
	files, err := sessionstore.NewFileStore(t.TempDir(), sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, keys...)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := files.New(httptest.NewRequest("GET", "/", nil), sessionCookie)
	c := testkit.SaveSession(t, files, s)

	gone := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer gone.Close()
	down := sessionstore.NewRedisStore(gone, sessionstore.CookieOptions{Path: "/", Lifetime: time.Hour}, keys...)
	m, err := New(Config{Issuer: "http://127.0.0.1:1", ClientID: "c", ClientCredential: clientauth.Secret("s"), RedirectURL: "http://x/cb",
		Store: down, CookieKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.jar[sessionCookie] = c
	for _, name := range []string{identityCookie, keptCookie, flashCookie} {
		b.jar[name] = &http.Cookie{Name: name, Value: "sealed", Path: "/"}
	}
	b.do(m, "POST", "/auth/signout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.SignOut(w, r); !errors.Is(err, sessionstore.ErrNotDeleted) {
			t.Errorf("SignOut with Redis down: %v, want ErrNotDeleted", err)
		}
	})
	if len(b.jar) != 0 {
		t.Errorf("the browser still holds %v after signing out", b.jar)
	}
}

func testKeys() [][]byte {
	return [][]byte{securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)}
}
