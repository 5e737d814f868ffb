package clientauth

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/youmark/pkcs8"
)

// LoadCertificate reads a PEM file holding the certificate (any chain certificates may follow)
// and its private key: PKCS#8, PKCS#1 (RSA) or SEC 1 (EC), or an encrypted PKCS#8 key
// ("ENCRYPTED PRIVATE KEY") whose password is in passwordFile. Errors say what to fix.
func LoadCertificate(clientID, file, passwordFile string) (*Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var password []byte
	if passwordFile != "" {
		p, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("password file: %w", err)
		}
		password = []byte(strings.TrimRight(string(p), "\r\n"))
	}
	certs, key, err := parsePEM(data, password)
	if err != nil {
		return nil, err
	}
	// The certificate is the one of the key; chain certificates are not sent.
	for _, cert := range certs {
		if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(key.Public()) {
			return NewCertificate(clientID, cert, key)
		}
	}
	return nil, errors.New("the private key does not match the certificate")
}

// parsePEM returns the certificates and the one private key of a PEM file.
func parsePEM(data, password []byte) ([]*x509.Certificate, crypto.Signer, error) {
	var certs []*x509.Certificate
	var key crypto.Signer
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("certificate: %w", err)
			}
			certs = append(certs, cert)
			continue
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		if key != nil {
			return nil, nil, errors.New("the file holds more than one private key")
		}
		k, err := parseKey(block, password)
		if err != nil {
			return nil, nil, err
		}
		key = k
	}
	switch {
	case len(certs) == 0 && key == nil:
		return nil, nil, errors.New("no PEM certificate or private key in the file")
	case len(certs) == 0:
		return nil, nil, errors.New("no certificate in the file: put the certificate and its private key in one PEM file")
	case key == nil:
		return nil, nil, errors.New("no private key in the file: put the certificate and its private key in one PEM file")
	}
	return certs, key, nil
}

func parseKey(block *pem.Block, password []byte) (crypto.Signer, error) {
	if block.Headers["Proc-Type"] != "" {
		return nil, errors.New("the private key uses the old OpenSSL encryption; convert it with: openssl pkcs8 -topk8 -v2 aes-256-cbc")
	}
	var k any
	var err error
	switch block.Type {
	case "ENCRYPTED PRIVATE KEY":
		if password == nil {
			return nil, errors.New("the private key is encrypted: give its password in a file (--client-certificate-password-file)")
		}
		if k, err = pkcs8.ParsePKCS8PrivateKey(block.Bytes, password); err != nil {
			return nil, errors.New("the private key could not be decrypted: wrong password?")
		}
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("the private key is a %T, which cannot sign", k)
	}
	return signer, nil
}
