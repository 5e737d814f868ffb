package clientauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/youmark/pkcs8"
)

const (
	clientID = "11111111-2222-3333-4444-555555555555"
	endpoint = "https://login.microsoftonline.com/tenant/oauth2/v2.0/token"
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func certFor(t *testing.T, key crypto.Signer, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	c, err := SelfSignedFor(key, "pcsupport test", notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func validCert(t *testing.T, key crypto.Signer) *x509.Certificate {
	return certFor(t, key, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// The assertion is what Entra ID documents: header with both thumbprints, iss = sub = client,
// aud = token endpoint, a unique jti, a lifetime of minutes, signed by the certificate's key.
func TestCertificateAssertion(t *testing.T) {
	for name, key := range map[string]crypto.Signer{"RSA": rsaKey(t), "EC P-256": mustEC(t, elliptic.P256())} {
		t.Run(name, func(t *testing.T) {
			cert := validCert(t, key)
			c, err := NewCertificate(clientID, cert, key)
			if err != nil {
				t.Fatal(err)
			}
			first, second := url.Values{}, url.Values{}
			if err := c.AddTo(first, endpoint); err != nil {
				t.Fatal(err)
			}
			_ = c.AddTo(second, endpoint)
			if first.Get("client_id") != clientID || first.Get("client_assertion_type") != AssertionType || first.Has("client_secret") {
				t.Errorf("form = %v", first)
			}
			a, b := verifyAssertion(t, first.Get("client_assertion"), cert), verifyAssertion(t, second.Get("client_assertion"), cert)
			if a.ID == "" || a.ID == b.ID {
				t.Errorf("jti %q then %q: want a new one for every request", a.ID, b.ID)
			}
			if a.Issuer != clientID || a.Subject != clientID || len(a.Audience) != 1 || a.Audience[0] != endpoint {
				t.Errorf("claims = %+v", a)
			}
			now := time.Now()
			if d := a.IssuedAt.Time().Sub(now); d > time.Minute || d < -time.Minute || a.NotBefore.Time().After(now) ||
				a.Expiry.Time().Sub(a.IssuedAt.Time()) > 10*time.Minute || a.Expiry.Time().Before(now) {
				t.Errorf("times: nbf %v iat %v exp %v", a.NotBefore.Time(), a.IssuedAt.Time(), a.Expiry.Time())
			}
		})
	}
}

func verifyAssertion(t *testing.T, assertion string, cert *x509.Certificate) jwt.Claims {
	t.Helper()
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := tok.Headers[0]
	s256, s1 := sha256.Sum256(cert.Raw), sha1.Sum(cert.Raw)
	if h.ExtraHeaders["x5t#S256"] != base64.RawURLEncoding.EncodeToString(s256[:]) || h.ExtraHeaders["x5t"] != base64.RawURLEncoding.EncodeToString(s1[:]) ||
		h.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("header = %+v", h)
	}
	var claims jwt.Claims
	if err := tok.Claims(cert.PublicKey, &claims); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return claims
}

func mustEC(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeFile(t *testing.T, name string, blocks ...*pem.Block) string {
	t.Helper()
	var b strings.Builder
	for _, block := range blocks {
		b.Write(pem.EncodeToMemory(block))
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func certBlock(c *x509.Certificate) *pem.Block { return &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw} }

func pkcs8Block(t *testing.T, key any) *pem.Block {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

func TestLoadCertificateFiles(t *testing.T) {
	rsaK, ecK := rsaKey(t), mustEC(t, elliptic.P384())
	rsaC, ecC := validCert(t, rsaK), validCert(t, ecK)
	other := validCert(t, rsaKey(t))
	encrypted, err := pkcs8.MarshalPrivateKey(rsaK, []byte("correct horse"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ecK)
	password := filepath.Join(t.TempDir(), "password")
	os.WriteFile(password, []byte("correct horse\n"), 0o600)
	for name, tc := range map[string]struct {
		file, password string
		want           *x509.Certificate
	}{
		"PKCS#8 RSA, key first":         {writeFile(t, "a.pem", pkcs8Block(t, rsaK), certBlock(rsaC)), "", rsaC},
		"PKCS#1 RSA with a chain":       {writeFile(t, "b.pem", certBlock(other), certBlock(rsaC), &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaK)}), "", rsaC},
		"SEC 1 EC":                      {writeFile(t, "c.pem", certBlock(ecC), &pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), "", ecC},
		"encrypted PKCS#8 and password": {writeFile(t, "d.pem", certBlock(rsaC), &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: encrypted}), password, rsaC},
	} {
		c, err := LoadCertificate(clientID, tc.file, tc.password)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !c.Certificate().Equal(tc.want) || !strings.Contains(c.String(), "thumbprint") {
			t.Errorf("%s: loaded %s", name, c)
		}
	}
}

// Each start-up error says what is wrong with the file.
func TestLoadCertificateRefuses(t *testing.T) {
	key := rsaKey(t)
	cert := validCert(t, key)
	expired := certFor(t, key, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	future := certFor(t, key, time.Now().Add(time.Hour), time.Now().Add(48*time.Hour))
	encrypted, _ := pkcs8.MarshalPrivateKey(key, []byte("right"), nil)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	wrongPassword := filepath.Join(t.TempDir(), "password")
	os.WriteFile(wrongPassword, []byte("wrong"), 0o600)
	legacy := pkcs8Block(t, key)
	legacy.Type, legacy.Headers = "RSA PRIVATE KEY", map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}
	for name, tc := range map[string]struct {
		file, password, want string
	}{
		"unreadable":          {"/nonexistent/cert.pem", "", "no such file"},
		"not PEM":             {writeFile(t, "x.pem"), "", "no PEM certificate or private key"},
		"no key":              {writeFile(t, "x.pem", certBlock(cert)), "", "no private key in the file"},
		"no certificate":      {writeFile(t, "x.pem", pkcs8Block(t, key)), "", "no certificate in the file"},
		"key of another cert": {writeFile(t, "x.pem", certBlock(validCert(t, rsaKey(t))), pkcs8Block(t, key)), "", "does not match the certificate"},
		"expired":             {writeFile(t, "x.pem", certBlock(expired), pkcs8Block(t, key)), "", "expired on " + expired.NotAfter.UTC().Format(time.DateOnly)},
		"not yet valid":       {writeFile(t, "x.pem", certBlock(future), pkcs8Block(t, key)), "", "is valid only from"},
		"encrypted, no pass":  {writeFile(t, "x.pem", certBlock(cert), &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: encrypted}), "", "--client-certificate-password-file"},
		"wrong password":      {writeFile(t, "x.pem", certBlock(cert), &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: encrypted}), wrongPassword, "wrong password"},
		"password unreadable": {writeFile(t, "x.pem", certBlock(cert), pkcs8Block(t, key)), "/nonexistent/password", "password file"},
		"old encryption":      {writeFile(t, "x.pem", certBlock(cert), legacy), "", "openssl pkcs8 -topk8"},
		"small RSA key":       {writeFile(t, "x.pem", certBlock(validCert(t, small)), pkcs8Block(t, small)), "", "2048 or more"},
	} {
		_, err := LoadCertificate(clientID, tc.file, tc.password)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", name, err, tc.want)
		}
	}
}

// A secret is sent in the form, never as an assertion.
func TestSecret(t *testing.T) {
	f := url.Values{}
	_ = Secret("s3cret").AddTo(f, endpoint)
	if f.Get("client_secret") != "s3cret" || f.Has("client_assertion") || strings.Contains(Secret("s3cret").String(), "s3cret") {
		t.Errorf("form %v, described as %q", f, Secret("s3cret"))
	}
}
