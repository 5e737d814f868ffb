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
	"errors"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// assertionLifetime is how long a signed client assertion is valid: it is made for one request.
const assertionLifetime = 5 * time.Minute

// Certificate signs a new client assertion for every token request, with the private key of a
// certificate registered with the provider. The header names the certificate by its SHA-256
// thumbprint (x5t#S256) and, for older Entra ID tenants, its SHA-1 thumbprint (x5t).
type Certificate struct {
	clientID string
	cert     *x509.Certificate
	signer   jose.Signer
	now      func() time.Time
}

// NewCertificate makes the credential of clientID from a certificate and its private key (RSA,
// or ECDSA P-256, P-384 or P-521). It refuses a key that is not the certificate's and a
// certificate that is not valid now.
func NewCertificate(clientID string, cert *x509.Certificate, key crypto.Signer) (*Certificate, error) {
	return newCertificate(clientID, cert, key, time.Now)
}

func newCertificate(clientID string, cert *x509.Certificate, key crypto.Signer, now func() time.Time) (*Certificate, error) {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("the private key does not match the certificate")
	}
	if t := now(); t.After(cert.NotAfter) {
		return nil, fmt.Errorf("the certificate (%s) expired on %s", describe(cert), cert.NotAfter.UTC().Format(time.DateOnly))
	} else if t.Before(cert.NotBefore) {
		return nil, fmt.Errorf("the certificate (%s) is valid only from %s", describe(cert), cert.NotBefore.UTC().Format(time.RFC3339))
	}
	alg, err := signatureAlgorithm(key)
	if err != nil {
		return nil, err
	}
	s256, s1 := sha256.Sum256(cert.Raw), sha1.Sum(cert.Raw)
	opts := (&jose.SignerOptions{}).WithType("JWT").
		WithHeader("x5t#S256", base64.RawURLEncoding.EncodeToString(s256[:])).
		WithHeader("x5t", base64.RawURLEncoding.EncodeToString(s1[:]))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("certificate key: %w", err)
	}
	return &Certificate{clientID: clientID, cert: cert, signer: signer, now: now}, nil
}

// signatureAlgorithm is RS256 for RSA (what every Entra ID tenant accepts) and ES256/384/512 by
// the curve of an ECDSA key.
func signatureAlgorithm(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("the RSA key has %d bits; the sign-in provider wants 2048 or more", k.N.BitLen())
		}
		return jose.RS256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
	}
	return "", fmt.Errorf("the certificate's key is a %T: want RSA or ECDSA (P-256, P-384, P-521)", key.Public())
}

// AddTo signs a fresh assertion for endpoint and sets client_id, client_assertion_type and
// client_assertion.
func (c *Certificate) AddTo(form url.Values, endpoint string) error {
	assertion, err := c.assertion(endpoint)
	if err != nil {
		return err
	}
	form.Set("client_id", c.clientID)
	form.Set("client_assertion_type", AssertionType)
	form.Set("client_assertion", assertion)
	return nil
}

// assertion is a JWT whose issuer and subject are the client, addressed to the token endpoint,
// with a unique id the provider accepts once.
func (c *Certificate) assertion(endpoint string) (string, error) {
	now := c.now()
	claims := jwt.Claims{
		Issuer:    c.clientID,
		Subject:   c.clientID,
		Audience:  jwt.Audience{endpoint},
		ID:        rand.Text(),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(assertionLifetime)),
	}
	s, err := jwt.Signed(c.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return s, nil
}

// Certificate is the certificate whose key signs the assertions.
func (c *Certificate) Certificate() *x509.Certificate { return c.cert }

func (c *Certificate) String() string {
	return fmt.Sprintf("certificate %s, expires %s", describe(c.cert), c.cert.NotAfter.UTC().Format(time.DateOnly))
}

// describe names a certificate as the Entra ID portal lists it: subject and SHA-1 thumbprint.
func describe(cert *x509.Certificate) string {
	s1 := sha1.Sum(cert.Raw)
	return fmt.Sprintf("%q, thumbprint %X", cert.Subject.String(), s1[:])
}
