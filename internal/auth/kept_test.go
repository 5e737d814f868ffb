package auth

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// keepTyped keeps what the browser's person typed, as a save whose session ended does.
func (b *browser) keepTyped(m *Manager, typed url.Values) (err error) {
	b.do(m, "POST", "/save", func(w http.ResponseWriter, r *http.Request) { err = m.KeepFormValues(w, r, typed) })
	return err
}

// takeKept is what the browser's next page puts back in the form.
func (b *browser) takeKept(m *Manager) (v url.Values) {
	b.do(m, "GET", "/", func(w http.ResponseWriter, r *http.Request) { v = m.TakeKeptFormValues(w, r) })
	return v
}

var typed = url.Values{"email": {"new-support@contoso.example"}, "telephone": {"+1 425 555 0100"}}

// Ada's session ends while she edits; what she typed waits, sealed in her browser, and is put
// back once, when she has signed in again.
func TestTypedValuesWaitForTheirOwner(t *testing.T) {
	t.Parallel()
	m, p, clock := clockedApp(t)
	b := newBrowser(t)
	b.signIn(m, p, ada)
	clock.Advance(8*time.Hour + time.Minute) // the default session lifetime: the session is over
	if _, err := b.currentUser(m); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("the session is not over: %v", err)
	}
	if err := b.keepTyped(m, typed); err != nil {
		t.Fatalf("KeepFormValues after the session ended: %v", err)
	}
	if c := b.jar[keptCookie]; c == nil || strings.Contains(c.Value, "contoso") {
		t.Fatalf("the kept values' cookie is %+v, want one that does not show them", c)
	}
	b.signIn(m, p, ada)
	if got := b.takeKept(m); !reflect.DeepEqual(got, typed) {
		t.Errorf("after signing in again Ada gets %v, want what she typed, %v", got, typed)
	}
	if got := b.takeKept(m); got != nil || b.has(keptCookie) {
		t.Errorf("the values are put back a second time: %v (cookie kept: %v)", got, b.has(keptCookie))
	}
}

// Values kept while the session still lasts (Partner Center refused its token, say) are the
// signed-in person's.
func TestTypedValuesKeptWhileSignedIn(t *testing.T) {
	t.Parallel()
	m, p, _ := clockedApp(t)
	b := newBrowser(t)
	b.signIn(m, p, ada)
	if err := b.keepTyped(m, typed); err != nil {
		t.Fatal(err)
	}
	b.signIn(m, p, ada)
	if got := b.takeKept(m); !reflect.DeepEqual(got, typed) {
		t.Errorf("Ada gets %v, want %v", got, typed)
	}
}

// Another person signing in on the same browser never sees what Ada typed, and the values are
// dropped: Ada does not get them afterwards either.
func TestTypedValuesNeverShownToAnother(t *testing.T) {
	t.Parallel()
	m, p, clock := clockedApp(t)
	b := newBrowser(t)
	b.signIn(m, p, ada)
	clock.Advance(8*time.Hour + time.Minute)
	if err := b.keepTyped(m, typed); err != nil {
		t.Fatal(err)
	}
	b.signIn(m, p, bob)
	if got := b.takeKept(m); got != nil {
		t.Errorf("Bob is shown what Ada typed: %v", got)
	}
	if b.has(keptCookie) {
		t.Error("Ada's values are still in the browser after Bob's page")
	}
	b.signIn(m, p, ada)
	if got := b.takeKept(m); got != nil {
		t.Errorf("Ada gets %v after Bob's page dropped them", got)
	}
}

// Values nobody is known to have typed are not kept: on a browser where nobody signed in, and
// after a sign-out, which forgets who signed in there.
func TestNoKeptValuesWithoutAKnownOwner(t *testing.T) {
	t.Parallel()
	m, p, _ := clockedApp(t)
	b := newBrowser(t)
	if err := b.keepTyped(m, typed); !errors.Is(err, ErrNoOwner) || b.has(keptCookie) {
		t.Errorf("on a browser nobody signed in on: %v (cookie set: %v), want ErrNoOwner and none", err, b.has(keptCookie))
	}

	b.signIn(m, p, ada)
	b.do(m, "POST", "/auth/signout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.SignOut(w, r); err != nil {
			t.Errorf("sign-out: %v", err)
		}
	})
	if err := b.keepTyped(m, typed); !errors.Is(err, ErrNoOwner) || b.has(keptCookie) {
		t.Errorf("after Ada signed out: %v (cookie set: %v), want ErrNoOwner and none", err, b.has(keptCookie))
	}

	// A cookie naming an owner that the app did not seal names nobody.
	b.jar[identityCookie] = &http.Cookie{Name: identityCookie, Value: "oid:tid-contoso/oid-ada", Path: "/"}
	if err := b.keepTyped(m, typed); !errors.Is(err, ErrNoOwner) {
		t.Errorf("with a forged identity cookie: %v, want ErrNoOwner", err)
	}
}

// A person is the same owner at every sign-in: by tenant and object id when the provider gives
// them (Entra ID), by subject otherwise; the same object id in another tenant is someone else.
func TestOwnerIsThePersonNotTheName(t *testing.T) {
	t.Parallel()
	adaContoso := User{Subject: "s1", TenantID: "contoso", ObjectID: "o1", Name: "Ada"}
	renamed := User{Subject: "s1", TenantID: "contoso", ObjectID: "o1", Name: "Ada Lovelace", Username: "ada.l@contoso.example"}
	otherTenant := User{Subject: "s2", TenantID: "fabrikam", ObjectID: "o1", Name: "Ada"}
	noEntra := User{Subject: "s1"}
	noEntraOther := User{Subject: "s3", ObjectID: "o1"} // an object id without a tenant does not count
	if adaContoso.ownerKey() != renamed.ownerKey() {
		t.Error("a new name makes another owner")
	}
	if adaContoso.ownerKey() == otherTenant.ownerKey() {
		t.Error("the same object id in another tenant is the same owner")
	}
	if noEntra.ownerKey() == adaContoso.ownerKey() || noEntra.ownerKey() == noEntraOther.ownerKey() {
		t.Errorf("without tenant and object ids the subject does not decide: %q %q %q", noEntra.ownerKey(), adaContoso.ownerKey(), noEntraOther.ownerKey())
	}
}
