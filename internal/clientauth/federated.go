package clientauth

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// FederatedToken sends, as the client assertion, a JWT that another identity provider issued
// for the app: the Kubernetes service-account token that AKS workload identity projects into
// the pod. The file is read for every request, since the kubelet replaces it before it expires.
type FederatedToken struct {
	clientID string
	file     string
	now      func() time.Time
}

// NewFederatedToken reads file once to check that it holds a JWT.
func NewFederatedToken(clientID, file string) (*FederatedToken, error) {
	f := &FederatedToken{clientID: clientID, file: file, now: time.Now}
	if _, err := f.read(); err != nil {
		return nil, err
	}
	return f, nil
}

// AddTo reads the current token and sets client_id, client_assertion_type and client_assertion.
func (f *FederatedToken) AddTo(form url.Values, _ string) error {
	token, err := f.read()
	if err != nil {
		return err
	}
	form.Set("client_id", f.clientID)
	form.Set("client_assertion_type", AssertionType)
	form.Set("client_assertion", token)
	return nil
}

// read returns the file's token. Its signature is the provider's to check; its expiry is read
// here only to say clearly when the file is no longer being renewed.
func (f *FederatedToken) read() (string, error) {
	b, err := os.ReadFile(f.file)
	if err != nil {
		return "", fmt.Errorf("federated token: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("federated token: %s is empty", f.file)
	}
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384, jose.ES512})
	if err != nil {
		return "", fmt.Errorf("federated token: %s does not hold a signed JWT", f.file)
	}
	var claims jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return "", fmt.Errorf("federated token: %s: %w", f.file, err)
	}
	if claims.Expiry != nil && f.now().After(claims.Expiry.Time()) {
		return "", errors.New("federated token: the token in " + f.file + " expired at " +
			claims.Expiry.Time().UTC().Format(time.RFC3339) + "; is the projected service-account token still renewed?")
	}
	return token, nil
}

func (f *FederatedToken) String() string { return "federated token from " + f.file }
