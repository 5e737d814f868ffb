// Package clientauth proves the app's identity to the sign-in provider's token endpoint: with a
// client secret, with a certificate (a client assertion signed by its private key), or with a
// federated token that another identity provider issued (Kubernetes workload identity).
package clientauth

import "net/url"

// AssertionType is the client_assertion_type of a JWT client assertion (RFC 7523).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Credential authenticates the app in a token request (the code exchange and the refresh grant).
type Credential interface {
	// AddTo sets the client authentication parameters on the form of a token request bound for
	// endpoint (the token endpoint from discovery, the audience of a signed assertion).
	AddTo(form url.Values, endpoint string) error
	// String describes the credential for the log, never revealing a secret.
	String() string
}

// Secret is a client secret, sent as client_secret in the form (client_secret_post).
type Secret string

// AddTo sets client_secret.
func (s Secret) AddTo(form url.Values, _ string) error {
	form.Set("client_secret", string(s))
	return nil
}

func (Secret) String() string { return "client secret" }
