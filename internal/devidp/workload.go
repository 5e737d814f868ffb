package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// WorkloadIssuer stands in for the identity provider of a federated credential: the Kubernetes
// service-account token issuer that AKS workload identity relies on. It signs tokens for one
// service account with a key made at start, and the provider trusts them (Credential).
type WorkloadIssuer struct {
	issuer, subject, audience string
	keyID                     string
	key                       *rsa.PrivateKey
}

// NewWorkloadIssuer makes an issuer of tokens for subject (system:serviceaccount:<ns>:<name>)
// addressed to audience (api://AzureADTokenExchange on Entra ID).
func NewWorkloadIssuer(issuer, subject, audience string) (*WorkloadIssuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate workload issuer key: %w", err)
	}
	return &WorkloadIssuer{issuer: issuer, subject: subject, audience: audience, keyID: uuid.NewString(), key: key}, nil
}

// Credential is what a Client registers to trust this issuer's tokens.
func (w *WorkloadIssuer) Credential() *FederatedCredential {
	return &FederatedCredential{Issuer: w.issuer, Subject: w.subject, Audience: w.audience,
		Keys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &w.key.PublicKey, KeyID: w.keyID, Algorithm: string(jose.RS256), Use: "sig"}}}}
}

// Token signs a new token valid for lifetime.
func (w *WorkloadIssuer) Token(lifetime time.Duration) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: w.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", w.keyID))
	if err != nil {
		return "", err
	}
	now := time.Now()
	return jwt.Signed(signer).Claims(jwt.Claims{Issuer: w.issuer, Subject: w.subject, Audience: jwt.Audience{w.audience},
		ID: uuid.NewString(), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(lifetime))}).Serialize()
}

// WriteToken puts a new token in path, replacing the file at once as the kubelet does, so that a
// reader never sees half a token.
func (w *WorkloadIssuer) WriteToken(path string, lifetime time.Duration) error {
	token, err := w.Token(lifetime)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(token); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
