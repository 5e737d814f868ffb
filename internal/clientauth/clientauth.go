// Package clientauth proves the app's identity to the sign-in provider's token endpoint: with a
// client secret, with a certificate (a client assertion signed by its private key), or with a
// federated token that another identity provider issued (Kubernetes workload identity).
package clientauth

import (
	"encoding/base64"
	"net/url"
	"slices"
)

// AssertionType is the client_assertion_type of a JWT client assertion (RFC 7523).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// How a client secret travels to the token endpoint (OpenID Connect Core §9). A provider may
// register a client for one of them only and refuse the other with invalid_client (ory/hydra,
// Duende IdentityServer do).
const (
	// SecretBasic: in the Authorization header (RFC 6749 §2.3.1), the method every provider
	// must support, and the one a discovery document without the list means.
	SecretBasic = "client_secret_basic"
	// SecretPost: as client_secret in the form.
	SecretPost = "client_secret_post"
	// AutoMethod leaves the choice to the provider's discovery document (SecretMethod).
	AutoMethod = "auto"
)

// Credential authenticates the app in a token request (the code exchange and the refresh grant).
type Credential interface {
	// AddTo sets the client authentication parameters on the form of a token request bound for
	// endpoint (the token endpoint from discovery, the audience of a signed assertion).
	AddTo(form url.Values, endpoint string) error
	// String describes the credential for the log, never revealing a secret.
	String() string
}

// Secret is a client secret. It travels in the Authorization header (BasicAuth) or in the form
// (AddTo), as SecretMethod decides.
type Secret string

// AddTo sets client_secret (client_secret_post).
func (s Secret) AddTo(form url.Values, _ string) error {
	form.Set("client_secret", string(s))
	return nil
}

// BasicAuth is the Authorization header of client_secret_basic. The client id and the secret are
// each form-urlencoded before they are joined and base64-encoded (RFC 6749 §2.3.1), as
// golang.org/x/oauth2 does: a secret holding "+", "%" or ":" reaches the provider unchanged.
func (s Secret) BasicAuth(clientID string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(string(s))))
}

func (Secret) String() string { return "client secret" }

// SecretMethod is how a secret travels to a token endpoint whose discovery document lists
// supported (token_endpoint_auth_methods_supported; nil when the member is absent). A forced
// SecretBasic or SecretPost wins. Otherwise basic, whenever the provider takes it (an absent
// list means basic, OpenID Connect Discovery §3), and post when the provider lists post but not
// basic. A list with neither gets basic, the one method every provider must support.
func SecretMethod(forced string, supported []string) string {
	switch {
	case forced == SecretBasic || forced == SecretPost:
		return forced
	case len(supported) == 0 || slices.Contains(supported, SecretBasic):
		return SecretBasic
	case slices.Contains(supported, SecretPost):
		return SecretPost
	}
	return SecretBasic
}
