package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"pcsupport/internal/clientauth"
)

// certificateFile writes a PEM file with a certificate valid from notBefore to notAfter and a
// private key (the certificate's, unless another is given).
func certificateFile(t *testing.T, notBefore, notAfter time.Time, otherKey bool) string {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	cert, err := clientauth.SelfSignedFor(key, "pcsupport", notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	if otherKey {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	path := filepath.Join(t.TempDir(), "app.pem")
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func tokenFile(t *testing.T) string {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	token, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://oidc.aks.example/", Subject: "system:serviceaccount:pcs:web",
		Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}).Serialize()
	path := filepath.Join(t.TempDir(), "azure-identity-token")
	os.WriteFile(path, []byte(token), 0o600)
	return path
}

func withoutSecret() map[string]string {
	e := production()
	delete(e, "PCS_CLIENT_SECRET")
	return e
}

func TestEachClientCredential(t *testing.T) {
	now := time.Now()
	cert := certificateFile(t, now.Add(-time.Hour), now.Add(24*time.Hour), false)
	token := tokenFile(t)
	for name, tc := range map[string]struct {
		env  map[string]string
		want string // the credential as logged
	}{
		"secret":      {map[string]string{"PCS_CLIENT_SECRET": "s3cret"}, "client secret"},
		"certificate": {map[string]string{"PCS_CLIENT_CERTIFICATE_FILE": cert}, "certificate \"CN=pcsupport\""},
		"federated":   {map[string]string{"PCS_CLIENT_ASSERTION_FILE": token}, "federated token from " + token},
	} {
		e := withoutSecret()
		for k, v := range tc.env {
			e[k] = v
		}
		c, err := Load(nil, env(e), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := c.ClientCredential.String(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: credential %q", name, got)
		}
	}
}

// A pod labelled for AKS workload identity gets AZURE_* from the webhook and needs nothing else
// for the credential, the client and the tenant; what is set explicitly wins.
func TestAKSWorkloadIdentityFillsWhatIsNotSet(t *testing.T) {
	token := tokenFile(t)
	e := withoutSecret()
	delete(e, "PCS_CLIENT_ID")
	delete(e, "PCS_TENANT_ID")
	e["AZURE_CLIENT_ID"], e["AZURE_TENANT_ID"] = "aks-client", "aks-tenant"
	e["AZURE_FEDERATED_TOKEN_FILE"], e["AZURE_AUTHORITY_HOST"] = token, "https://login.microsoftonline.us/"
	c, err := Load(nil, env(e), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "aks-client" || c.TenantID != "aks-tenant" || c.Issuer != "https://login.microsoftonline.us/aks-tenant/v2.0" ||
		c.ClientCredential.String() != "federated token from "+token {
		t.Errorf("client %q tenant %q issuer %q credential %v", c.ClientID, c.TenantID, c.Issuer, c.ClientCredential)
	}

	e["PCS_CLIENT_ID"], e["PCS_CLIENT_SECRET"] = "explicit", "s3cret" // a secret set on purpose is not a second credential
	c, err = Load([]string{"--authority-host", "login.microsoftonline.com"}, env(e), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "explicit" || c.ClientCredential != clientauth.Secret("s3cret") || c.AuthorityHost != "login.microsoftonline.com" {
		t.Errorf("explicit settings lost: client %q credential %v authority %q", c.ClientID, c.ClientCredential, c.AuthorityHost)
	}
}

// Every credential problem is listed with the others, in the one start-up message.
func TestClientCredentialProblems(t *testing.T) {
	now := time.Now()
	expired := certificateFile(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), false)
	mismatch := certificateFile(t, now.Add(-time.Hour), now.Add(time.Hour), true)
	good := certificateFile(t, now.Add(-time.Hour), now.Add(time.Hour), false)
	base := withoutSecret()
	delete(base, "PCS_SESSION_KEYS") // another problem, listed with this one
	assertRefusedBeside(t, base, "PCS_SESSION_KEYS is missing", map[string]refusal{
		"none":                   {nil, "no client credential: set PCS_CLIENT_CERTIFICATE_FILE"},
		"two":                    {map[string]string{"PCS_CLIENT_SECRET": "s", "PCS_CLIENT_CERTIFICATE_FILE": good}, "PCS_CLIENT_CERTIFICATE_FILE and PCS_CLIENT_SECRET are set together"},
		"three":                  {map[string]string{"PCS_CLIENT_SECRET": "s", "PCS_CLIENT_CERTIFICATE_FILE": good, "PCS_CLIENT_ASSERTION_FILE": "/x"}, "PCS_CLIENT_CERTIFICATE_FILE and PCS_CLIENT_ASSERTION_FILE and PCS_CLIENT_SECRET are set together"},
		"unreadable certificate": {map[string]string{"PCS_CLIENT_CERTIFICATE_FILE": "/nonexistent/app.pem"}, "PCS_CLIENT_CERTIFICATE_FILE /nonexistent/app.pem: open /nonexistent/app.pem"},
		"unreadable token":       {map[string]string{"PCS_CLIENT_ASSERTION_FILE": "/nonexistent/token"}, "PCS_CLIENT_ASSERTION_FILE: federated token: open /nonexistent/token"},
		"expired certificate":    {map[string]string{"PCS_CLIENT_CERTIFICATE_FILE": expired}, "expired on"},
		"key of another":         {map[string]string{"PCS_CLIENT_CERTIFICATE_FILE": mismatch}, "the private key does not match the certificate"},
		"password, no cert":      {map[string]string{"PCS_CLIENT_SECRET": "s", "PCS_CLIENT_CERTIFICATE_PASSWORD_FILE": "/run/secrets/pw"}, "PCS_CLIENT_CERTIFICATE_PASSWORD_FILE is set without PCS_CLIENT_CERTIFICATE_FILE"},
		"AKS authority":          {map[string]string{"PCS_CLIENT_SECRET": "s", "AZURE_AUTHORITY_HOST": "login.microsoftonline.com"}, "AZURE_AUTHORITY_HOST \"login.microsoftonline.com\""},
		"unreadable secret file": {map[string]string{"PCS_CLIENT_SECRET_FILE": "/nonexistent/secret"}, "PCS_CLIENT_SECRET_FILE: open"},
	})
}

func TestSignOutOfMicrosoftAndDevClientAuth(t *testing.T) {
	c, err := Load([]string{"--sign-out-of-microsoft"}, env(production()), io.Discard)
	if err != nil || !c.SignOutOfMicrosoft || c.SignedOutURL() != "https://tools.example.com/partner/support/auth/signed-out" {
		t.Errorf("sign-out of Microsoft: %v %v", c, err)
	}
	c, err = Load([]string{"--dev", "--dev-client-auth", "Federated"}, env(nil), io.Discard)
	if err != nil || c.DevClientAuth != "federated" || c.SignOutOfMicrosoft {
		t.Errorf("dev client auth: %+v %v", c, err)
	}
	if _, err := Load([]string{"--dev", "--dev-client-auth", "password"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "PCS_DEV_CLIENT_AUTH \"password\" is not one of secret, certificate, federated") {
		t.Errorf("bad dev client auth: %v", err)
	}
}

// How a client secret travels is the provider's discovery's to say unless the setting forces
// it; forcing it means a secret, so it is refused beside a certificate or a federated token,
// with the other problems.
func TestClientAuthMethod(t *testing.T) {
	for value, want := range map[string]string{"": "auto", "auto": "auto", "client_secret_post": "client_secret_post", "Client_Secret_Basic": "client_secret_basic"} {
		e := production()
		e["PCS_CLIENT_AUTH_METHOD"] = value
		c, err := Load(nil, env(e), io.Discard)
		if err != nil || c.ClientAuthMethod != want {
			t.Errorf("PCS_CLIENT_AUTH_METHOD %q: %v %v, want %s", value, c, err, want)
		}
	}
	c, err := Load([]string{"--dev", "--client-auth-method", "client_secret_post"}, env(nil), io.Discard)
	if err != nil || c.ClientAuthMethod != "client_secret_post" {
		t.Errorf("--dev with a forced method: %v %v", c, err)
	}

	now := time.Now()
	cert := certificateFile(t, now.Add(-time.Hour), now.Add(time.Hour), false)
	base := withoutSecret()
	delete(base, "PCS_SESSION_KEYS") // another problem, listed with this one
	assertRefusedBeside(t, base, "PCS_SESSION_KEYS is missing", map[string]refusal{
		"unknown method": {map[string]string{"PCS_CLIENT_SECRET": "s", "PCS_CLIENT_AUTH_METHOD": "private_key_jwt"},
			`PCS_CLIENT_AUTH_METHOD "private_key_jwt" is not one of auto, client_secret_basic, client_secret_post`},
		"forced beside a certificate": {map[string]string{"PCS_CLIENT_CERTIFICATE_FILE": cert, "PCS_CLIENT_AUTH_METHOD": "client_secret_basic"},
			"PCS_CLIENT_AUTH_METHOD=client_secret_basic is for a client secret, but PCS_CLIENT_CERTIFICATE_FILE authenticates with a signed client assertion"},
		"forced beside a federated token": {map[string]string{"PCS_CLIENT_ASSERTION_FILE": tokenFile(t), "PCS_CLIENT_AUTH_METHOD": "client_secret_post"},
			"PCS_CLIENT_AUTH_METHOD=client_secret_post is for a client secret, but PCS_CLIENT_ASSERTION_FILE authenticates with a signed client assertion"},
		"forced beside AKS workload identity": {map[string]string{"AZURE_FEDERATED_TOKEN_FILE": tokenFile(t), "PCS_CLIENT_AUTH_METHOD": "client_secret_post"},
			"but AZURE_FEDERATED_TOKEN_FILE authenticates with a signed client assertion"},
	})
	_, err = Load([]string{"--dev", "--dev-client-auth", "certificate", "--client-auth-method", "client_secret_post"}, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PCS_CLIENT_AUTH_METHOD=client_secret_post is for a client secret, but PCS_DEV_CLIENT_AUTH=certificate authenticates with a signed client assertion") {
		t.Errorf("--dev with a certificate and a forced secret method: %v", err)
	}
}
