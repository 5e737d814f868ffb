package config

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The deployment guide names only settings that exist: every PCS_ variable anywhere in it, and
// every --flag in its prose and on command lines that run the app (other tools' flags, in their
// own examples, are theirs).
func TestDeployGuideNamesOnlyRealSettings(t *testing.T) {
	doc := readDeployGuide(t)
	flags, envs := map[string]bool{"help": true}, map[string]bool{}
	for _, s := range Documented() {
		flags[s[0]] = true
		envs[s[1]] = true
	}
	for _, env := range regexp.MustCompile(`PCS_[A-Z0-9_]+`).FindAllString(doc, -1) {
		if !envs[env] {
			t.Errorf("docs/deploy.md names %s, which is not a setting", env)
		}
	}
	flag := regexp.MustCompile(`(?:^|[\s` + "`" + `(])--([a-z][a-z0-9-]*)`)
	runsApp := regexp.MustCompile(`(^|\s|/)web(\s|$)`)
	inFence := false
	checked := 0
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence && !runsApp.MatchString(line) {
			continue
		}
		for _, m := range flag.FindAllStringSubmatch(line, -1) {
			checked++
			if !flags[m[1]] {
				t.Errorf("docs/deploy.md names --%s, which is not a setting: %s", m[1], strings.TrimSpace(line))
			}
		}
	}
	if checked == 0 {
		t.Error("no flags found in docs/deploy.md: the check checks nothing")
	}
}

// The Kubernetes example's environment, completed as AKS's workload identity webhook completes it
// for a pod labelled for it, is a configuration the app accepts, with the federated credential.
func TestDeployGuideKubernetesExampleLoads(t *testing.T) {
	doc := readDeployGuide(t)
	pairs := regexp.MustCompile(`- name: (PCS_[A-Z0-9_]+)\n\s+value: "?([^"\n]*)"?`).FindAllStringSubmatch(doc, -1)
	if len(pairs) < 6 {
		t.Fatalf("found %d environment entries in the Kubernetes example", len(pairs))
	}
	dir := t.TempDir()
	secrets := map[string]string{ // what the mounted secret files would hold
		"PCS_SESSION_KEYS_FILE": key(32) + "\n" + key(32),
		"PCS_REDIS_URL_FILE":    "redis://redis:6379/0",
		"PCS_DATABASE_URL_FILE": "postgres://pcsupport:pw@pcsupport-db.postgres.database.azure.com:5432/pcsupport?sslmode=verify-full",
	}
	e := map[string]string{}
	for _, p := range pairs {
		name, value := p[1], p[2]
		if content, ok := secrets[name]; ok {
			value = filepath.Join(dir, name)
			if err := os.WriteFile(value, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		e[name] = value
	}
	clientID := regexp.MustCompile(`azure\.workload\.identity/client-id: "?([0-9a-f-]+)`).FindStringSubmatch(doc)
	if !strings.Contains(doc, `azure.workload.identity/use: "true"`) || clientID == nil {
		t.Fatal("the Kubernetes example has no pod labelled for workload identity and service account naming the client id")
	}
	e["AZURE_CLIENT_ID"], e["AZURE_TENANT_ID"] = clientID[1], "cluster-tenant"
	e["AZURE_AUTHORITY_HOST"], e["AZURE_FEDERATED_TOKEN_FILE"] = "https://login.microsoftonline.com/", tokenFile(t)
	c, err := Load(nil, env(e), io.Discard)
	if err != nil {
		t.Fatalf("the Kubernetes example's settings do not load:\n%v", err)
	}
	if c.ClientID != clientID[1] || c.TenantID != e["PCS_TENANT_ID"] || !strings.HasPrefix(c.ClientCredential.String(), "federated token") {
		t.Errorf("example credential: client %q, tenant %q, %v", c.ClientID, c.TenantID, c.ClientCredential)
	}
	if c.SessionStore != "redis" || c.RoutePrefix != "/partner/support/" || c.IdentityHeader == "" || len(c.TrustedProxies) == 0 {
		t.Errorf("example config: store %q, routes %q, identity %q, proxies %v", c.SessionStore, c.RoutePrefix, c.IdentityHeader, c.TrustedProxies)
	}
	if c.DatabaseURL == "" || c.HistoryRetention == 0 { // two replicas share the change history
		t.Errorf("example config: database URL %q, history retention %v", c.DatabaseURL, c.HistoryRetention)
	}
	for _, probe := range []string{c.RoutePrefix + "healthz", c.RoutePrefix + "readyz", c.RoutePrefix + "metrics"} {
		if !strings.Contains(doc, "path: "+probe) && !strings.Contains(doc, "prometheus.io/path: "+probe) {
			t.Errorf("the Kubernetes example does not use %s", probe)
		}
	}
}

func readDeployGuide(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
