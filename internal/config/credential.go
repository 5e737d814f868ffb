package config

import (
	"net/url"
	"slices"
	"strings"

	"pcsupport/internal/clientauth"
)

// DevClientAuths are the ways the app may authenticate to the development provider (--dev-client-auth).
var DevClientAuths = []string{"secret", "certificate", "federated"}

// ClientAuthMethods are the values of --client-auth-method: how a client secret travels.
var ClientAuthMethods = []string{clientauth.AutoMethod, clientauth.SecretBasic, clientauth.SecretPost}

// clientCredential decides, once, how the app proves its identity at the token endpoint: exactly
// one of a certificate, a federated token or a secret. On AKS with workload identity the
// injected AZURE_FEDERATED_TOKEN_FILE is the federated token when no credential is set. It
// returns the setting that names a certificate or a federated token, "" for a secret.
func (c *Config) clientCredential(d *declared, getenv func(string) string, bad func(string, ...any)) (assertionFrom string) {
	certFile, passwordFile, assertionFile := d.certificate.Value(), d.certificatePassword.Value(), d.assertion.Value()
	secret := d.secret.Value()
	assertionName := d.assertion.Name()
	var given []string
	for _, g := range []struct {
		set  bool
		name string
	}{{certFile != "", d.certificate.Name()}, {assertionFile != "", assertionName}, {secret != "" || d.secret.FileFailed(), d.secret.Name()}} {
		if g.set {
			given = append(given, g.name)
		}
	}
	if len(given) == 0 && getenv("AZURE_FEDERATED_TOKEN_FILE") != "" {
		assertionFile, assertionName = getenv("AZURE_FEDERATED_TOKEN_FILE"), "AZURE_FEDERATED_TOKEN_FILE"
		given = append(given, assertionName)
	}
	if passwordFile != "" && certFile == "" {
		bad("%s is set without %s", d.certificatePassword.Name(), d.certificate.Name())
	}
	var err error
	switch {
	case len(given) == 0:
		bad("no client credential: set %s (a certificate registered for the app), %s (a federated token, e.g. AKS workload identity) or, as a last resort, %s (or %s); docs/deploy.md helps choose",
			d.certificate.Name(), d.assertion.Name(), d.secret.Name(), d.secret.File().Name())
	case len(given) > 1:
		bad("%s are set together: keep exactly one client credential", strings.Join(given, " and "))
	case certFile != "":
		if c.ClientCredential, err = clientauth.LoadCertificate(c.ClientID, certFile, passwordFile); err != nil {
			bad("%s %s: %v", d.certificate.Name(), certFile, err)
		}
		return d.certificate.Name()
	case assertionFile != "":
		if c.ClientCredential, err = clientauth.NewFederatedToken(c.ClientID, assertionFile); err != nil {
			bad("%s: %v", assertionName, err)
		}
		return assertionName
	case secret != "":
		c.ClientCredential = clientauth.Secret(secret)
	}
	return ""
}

// clientAuthMethod: how a secret travels to the token endpoint. Forcing a way means a secret: a
// certificate or a federated token (assertionFrom names its setting; with --dev,
// --dev-client-auth says) always sends a signed client assertion (private_key_jwt).
func (c *Config) clientAuthMethod(d *declared, assertionFrom string, bad func(string, ...any)) {
	c.ClientAuthMethod = strings.ToLower(d.clientAuthMethod.Value())
	if !slices.Contains(ClientAuthMethods, c.ClientAuthMethod) {
		bad("%s %q is not one of %s", d.clientAuthMethod.Name(), d.clientAuthMethod.Value(), strings.Join(ClientAuthMethods, ", "))
		return
	}
	if c.Dev && c.DevClientAuth != "secret" {
		assertionFrom = d.devClientAuth.Name() + "=" + c.DevClientAuth
	}
	if c.ClientAuthMethod != clientauth.AutoMethod && assertionFrom != "" {
		bad("%s=%s is for a client secret, but %s authenticates with a signed client assertion (private_key_jwt) in every token request: leave %s unset (or auto)",
			d.clientAuthMethod.Name(), c.ClientAuthMethod, assertionFrom, d.clientAuthMethod.Name())
	}
}

// workloadIdentityAuthority is the host of AZURE_AUTHORITY_HOST, which the AKS workload identity
// webhook sets to the cloud's authority URL (https://login.microsoftonline.com/), or "".
func workloadIdentityAuthority(getenv func(string) string, bad func(string, ...any)) string {
	v := getenv("AZURE_AUTHORITY_HOST")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		bad("AZURE_AUTHORITY_HOST %q (set by AKS workload identity) is not a URL such as https://login.microsoftonline.com/", v)
		return ""
	}
	return u.Hostname()
}
