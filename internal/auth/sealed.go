package auth

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
)

// maxSealedCookie bounds one sealed cookie as sent, name and attributes aside: browsers keep
// cookies up to about 4 KB, and every request to the cookie's path carries it.
const maxSealedCookie = 3800

// sealedCookie is one kind of small value that the browser carries for the app, encrypted and
// signed with the session keys (securecookie: AES-CTR, then an HMAC-SHA256), so that nothing about a
// visitor who has not finished signing in is kept on the server: the pending sign-in, the typed
// values waiting for their owner, who last signed in here. A value older than maxAge, or made
// with keys the app no longer has, reads as absent.
type sealedCookie struct {
	codecs []securecookie.Codec
	path   string
	secure bool
	maxAge time.Duration
}

func newSealedCookie(keyPairs [][]byte, path string, secure bool, maxAge time.Duration) sealedCookie {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(maxAge / time.Second))
			sc.MaxLength(maxSealedCookie)
			sc.SetSerializer(securecookie.JSONEncoder{}) // smaller than gob for a few short fields
		}
	}
	return sealedCookie{codecs: codecs, path: path, secure: secure, maxAge: maxAge}
}

var errCookieTooLarge = errors.New("value too large for a cookie")

// write seals v into the cookie name. A value that would not fit a cookie is refused.
func (c sealedCookie) write(w http.ResponseWriter, name string, v any) error {
	value, err := securecookie.EncodeMulti(name, v, c.codecs...)
	if err != nil {
		return fmt.Errorf("seal cookie %s: %w (%w)", name, errCookieTooLarge, err)
	}
	http.SetCookie(w, c.cookie(name, value, int(c.maxAge/time.Second)))
	return nil
}

// read unseals the cookie name into v; false when it is absent, expired, tampered or unreadable.
func (c sealedCookie) read(r *http.Request, name string, v any) bool {
	ck, err := r.Cookie(name)
	if err != nil {
		return false
	}
	return securecookie.DecodeMulti(name, ck.Value, v, c.codecs...) == nil
}

// clear tells the browser to drop the cookie name.
func (c sealedCookie) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, c.cookie(name, "", -1))
}

func (c sealedCookie) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: c.path, MaxAge: maxAge, HttpOnly: true, Secure: c.secure,
		SameSite: http.SameSiteLaxMode} // the sign-in provider's redirect back is a top-level GET
}
