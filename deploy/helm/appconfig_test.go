package helm_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/config"
	"pcsupport/internal/notify"
)

// The environment the chart gives the app, with its mounted files, is a configuration the app
// accepts: for the example as AKS's workload identity webhook completes it (the federated
// credential), and for a certificate mounted from a Secret.
func TestRenderedSettingsLoad(t *testing.T) {
	for _, r := range renders(t) {
		if r.name == "default values" {
			continue // incomplete on purpose: NOTES.txt lists what is missing
		}
		d := r.deployment(t)
		c := d.app(t)
		env := c.env()
		dir := t.TempDir()
		for name, file := range env {
			if content, ok := mountedSecret(t, name); ok {
				local := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(file, "/"), "/", "_"))
				if err := os.WriteFile(local, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				env[name] = local
			}
		}
		if d.Spec.Template.Metadata.Labels["azure.workload.identity/use"] == "true" {
			var sa object
			for _, o := range r.all("ServiceAccount") {
				if o.Metadata.Name == d.Spec.Template.Spec.ServiceAccountName {
					sa = o
				}
			}
			env["AZURE_CLIENT_ID"] = sa.Metadata.Annotations["azure.workload.identity/client-id"]
			env["AZURE_TENANT_ID"] = "cluster-tenant"
			env["AZURE_AUTHORITY_HOST"] = "https://login.microsoftonline.com/"
			env["AZURE_FEDERATED_TOKEN_FILE"] = federatedToken(t)
		}
		cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Errorf("%s: the app refuses the chart's settings:\n%v", r.name, err)
			continue
		}
		if cfg.RoutePrefix != routePrefix(c.env()) {
			t.Errorf("%s: the app mounts its routes at %s; the tests assume %s", r.name, cfg.RoutePrefix, routePrefix(c.env()))
		}
		switch r.name {
		case "example values":
			if !strings.HasPrefix(cfg.ClientCredential.String(), "federated token") || cfg.TenantID != env["PCS_TENANT_ID"] ||
				cfg.SessionStore != "redis" || cfg.DatabaseURL == "" || cfg.HistoryRetention == 0 || cfg.IdentityHeader == "" || len(cfg.TrustedProxies) == 0 ||
				len(cfg.NotifyReceivers) != 2 || cfg.NotifySecret.IsZero() {
				t.Errorf("%s: credential %v, tenant %q, store %q, database %v, retention %v, identity header %q, proxies %v, %d receivers, secret %v", r.name,
					cfg.ClientCredential, cfg.TenantID, cfg.SessionStore, cfg.DatabaseURL != "", cfg.HistoryRetention, cfg.IdentityHeader, cfg.TrustedProxies,
					len(cfg.NotifyReceivers), !cfg.NotifySecret.IsZero())
			}
		default:
			if !strings.HasPrefix(cfg.ClientCredential.String(), "certificate") || !cfg.ProxyStripsPrefix || cfg.DataDir != "/data" {
				t.Errorf("%s: credential %v, strips prefix %v, data dir %s", r.name, cfg.ClientCredential, cfg.ProxyStripsPrefix, cfg.DataDir)
			}
		}
	}
}

// mountedSecret is what the Secret behind a PCS_*_FILE variable would hold.
func mountedSecret(t *testing.T, env string) (string, bool) {
	key := func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	switch env {
	case "PCS_SESSION_KEYS_FILE":
		return key() + " " + key() + "\n", true
	case "PCS_REDIS_URL_FILE":
		return "rediss://:access-key@pcsupport.redis.cache.windows.net:6380/0\n", true
	case "PCS_DATABASE_URL_FILE":
		return "postgres://pcsupport:password@pcsupport-db.postgres.database.azure.com:5432/pcsupport?sslmode=verify-full\n", true
	case "PCS_CLIENT_SECRET_FILE":
		return "client-secret\n", true
	case "PCS_NOTIFY_WEBHOOKS_FILE":
		return "teams:https://prod-00.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=x https://hooks.example.com/partner-support\n", true
	case "PCS_NOTIFY_SECRET_FILE":
		return notify.NewSecret().Text() + "\n", true
	case "PCS_CLIENT_CERTIFICATE_FILE":
		cert, signer, err := clientauth.SelfSigned("pcsupport", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(signer)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})) +
			string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), true
	}
	return "", false
}

// federatedToken writes a service-account token as the webhook projects it.
func federatedToken(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://oidc.aks.example/", Subject: "system:serviceaccount:pcsupport:pcsupport",
		Audience: jwt.Audience{"api://AzureADTokenExchange"}, Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// appSettings are the app's environment variables.
func appSettings() map[string]bool {
	out := map[string]bool{}
	for _, s := range config.Documented() {
		if s[1] != "" {
			out[s[1]] = true
		}
	}
	return out
}
