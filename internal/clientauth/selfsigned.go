package clientauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// SelfSigned makes an RSA key and a self-signed certificate for it, valid from a minute ago for
// lifetime: for the development provider and tests. Production certificates come from the
// operator (see docs/deploy.md).
func SelfSigned(commonName string, lifetime time.Duration) (*x509.Certificate, crypto.Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	cert, err := SelfSignedFor(key, commonName, time.Now().Add(-time.Minute), time.Now().Add(lifetime))
	return cert, key, err
}

// SelfSignedFor makes a self-signed certificate for key, valid from notBefore to notAfter.
func SelfSignedFor(key crypto.Signer, commonName string, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}
