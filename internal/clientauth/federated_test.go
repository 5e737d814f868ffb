package clientauth

import (
	"crypto/rand"
	"crypto/rsa"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func serviceAccountToken(t *testing.T, key *rsa.PrivateKey, expiry time.Time) string {
	t.Helper()
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://oidc.aks.example/", Subject: "system:serviceaccount:pcs:web",
		Audience: jwt.Audience{"api://AzureADTokenExchange"}, Expiry: jwt.NewNumericDate(expiry), ID: rand.Text()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The kubelet replaces the projected token before it expires: every request sends the current one.
func TestFederatedTokenFollowsTheFile(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	path := filepath.Join(t.TempDir(), "azure-identity-token")
	first, second := serviceAccountToken(t, key, time.Now().Add(time.Hour)), serviceAccountToken(t, key, time.Now().Add(2*time.Hour))
	os.WriteFile(path, []byte(first+"\n"), 0o600)
	f, err := NewFederatedToken(clientID, path)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	if err := f.AddTo(form, endpoint); err != nil || form.Get("client_assertion") != first || form.Get("client_id") != clientID ||
		form.Get("client_assertion_type") != AssertionType {
		t.Fatalf("first request: %v %v", form, err)
	}
	os.WriteFile(path, []byte(second), 0o600)
	if err := f.AddTo(form, endpoint); err != nil || form.Get("client_assertion") != second {
		t.Errorf("after the file rotated the request carries the old token (%v)", err)
	}
}

func TestFederatedTokenRefusals(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	for name, tc := range map[string]struct{ path, want string }{
		"missing": {filepath.Join(dir, "none"), "no such file"},
		"empty":   {write("empty", "\n"), "is empty"},
		"not JWT": {write("text", "hello"), "does not hold a signed JWT"},
		"expired": {write("old", serviceAccountToken(t, key, time.Now().Add(-time.Minute))), "still renewed"},
	} {
		if _, err := NewFederatedToken(clientID, tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", name, err, tc.want)
		}
	}
}
