package config

import (
	"encoding/base64"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pcsupport/internal/clientauth"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func key(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

func production() map[string]string {
	return map[string]string{
		"PCS_PUBLIC_URL":    "https://tools.example.com/partner/support",
		"PCS_TENANT_ID":     "11111111-2222-3333-4444-555555555555",
		"PCS_CLIENT_ID":     "app-id",
		"PCS_CLIENT_SECRET": "s3cret",
		"PCS_SESSION_KEYS":  key(32) + " " + key(32),
	}
}

// refusal is settings that Load must refuse, and a part of the message that says why.
type refusal struct {
	env  map[string]string
	want string
}

// assertRefusedBeside loads base with each case's settings added and checks the start-up message
// names the case's problem beside base's own (other): every problem at once, two in all, and never
// a password a setting carried ("hunter2").
func assertRefusedBeside(t *testing.T, base map[string]string, other string, cases map[string]refusal) {
	t.Helper()
	for name, tc := range cases {
		e := maps.Clone(base)
		maps.Copy(e, tc.env)
		_, err := Load(nil, env(e), io.Discard)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, other) || strings.Count(msg, "\n  - ") != 2 || strings.Contains(msg, "hunter2") {
			t.Errorf("%s: want %q and %q, two problems in all, no password:\n%s", name, tc.want, other, msg)
		}
	}
}

func TestDevNeedsNothing(t *testing.T) {
	c, err := Load([]string{"--dev"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.ListenAddr != "127.0.0.1:8080" || c.PublicURL.String() != "http://127.0.0.1:8080/" || c.BasePath != "/" {
		t.Fatalf("dev config = %+v", c)
	}
	c.UseListenerAddr("127.0.0.1:40123")
	if c.PublicURL.String() != "http://127.0.0.1:40123/" || c.RedirectURL() != "http://127.0.0.1:40123/auth/callback" {
		t.Fatalf("after listening: %s", c.PublicURL)
	}
}

func TestDevIsOnlyAFlag(t *testing.T) {
	_, err := Load(nil, env(map[string]string{"PCS_DEV": "1", "DEV": "true"}), io.Discard)
	if err == nil {
		t.Fatal("an environment variable turned on development mode, or production started without settings")
	}
}

func TestProductionDerivesFromPublicURLAndCloud(t *testing.T) {
	c, err := Load(nil, env(production()), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.BasePath != "/partner/support/" || c.RedirectURL() != "https://tools.example.com/partner/support/auth/callback" || !c.Secure() {
		t.Errorf("paths: base %q redirect %q secure %v", c.BasePath, c.RedirectURL(), c.Secure())
	}
	if c.Issuer != "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0" {
		t.Errorf("issuer = %q", c.Issuer)
	}
	if c.PartnerCenterURL != "https://api.partnercenter.microsoft.com" || c.Scope != "https://api.partnercenter.microsoft.com/user_impersonation" {
		t.Errorf("partner center = %q %q", c.PartnerCenterURL, c.Scope)
	}
	if got := c.Scopes(); strings.Join(got, " ") != "openid profile email offline_access https://api.partnercenter.microsoft.com/user_impersonation" {
		t.Errorf("scopes = %v", got)
	}
	if len(c.SessionKeys) != 2 || c.ClientCredential != clientauth.Secret("s3cret") {
		t.Errorf("secrets not read")
	}
}

func TestCloudPresetsAndOverrides(t *testing.T) {
	tests := []struct {
		cloud, authority, base, scope string
	}{
		{"global", "login.microsoftonline.com", "https://api.partnercenter.microsoft.com", "https://api.partnercenter.microsoft.com/user_impersonation"},
		{"china", "login.chinacloudapi.cn", "https://partner.partnercenterapi.microsoftonline.cn", "https://partner.partnercenterapi.microsoftonline.cn/user_impersonation"},
		{"usgov", "login.microsoftonline.us", "https://api.partnercenter.microsoft.com", "https://api.partnercenter.microsoft.com/user_impersonation"},
		{"germany", "login.microsoftonline.de", "https://api.partnercenter.microsoft.com", "https://api.partnercenter.microsoft.com/user_impersonation"},
	}
	for _, tt := range tests {
		e := production()
		e["PCS_CLOUD"] = tt.cloud
		c, err := Load(nil, env(e), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.AuthorityHost != tt.authority || c.PartnerCenterURL != tt.base || c.Scope != tt.scope || !strings.HasPrefix(c.Issuer, "https://"+tt.authority+"/") {
			t.Errorf("%s: %q %q %q %q", tt.cloud, c.AuthorityHost, c.PartnerCenterURL, c.Scope, c.Issuer)
		}
	}
	e := production()
	e["PCS_CLOUD"] = "china"
	c, err := Load([]string{"--partner-center-url", "https://pc.example/", "--scope", "api://x/.default", "--oidc-issuer", "https://idp.example/realms/x"}, env(e), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.PartnerCenterURL != "https://pc.example" || c.Scope != "api://x/.default" || c.Issuer != "https://idp.example/realms/x" || c.AuthorityHost != "login.chinacloudapi.cn" {
		t.Errorf("overrides: %+v", c)
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Load([]string{"--cloud", "mars", "--pc-timeout", "soon", "--public-url", "ftp://x"}, env(nil), io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"PCS_PUBLIC_URL", "PCS_CLOUD", "PCS_TENANT_ID", "PCS_CLIENT_ID", "PCS_CLIENT_SECRET", "PCS_SESSION_KEYS", "PCS_PC_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	secret, keys := filepath.Join(dir, "secret"), filepath.Join(dir, "keys")
	os.WriteFile(secret, []byte("from-file\n"), 0o600)
	os.WriteFile(keys, []byte(key(64)+"\n"+key(32)+"\n"+key(32)+" "+key(32)+"\n"), 0o600)
	e := production()
	delete(e, "PCS_CLIENT_SECRET")
	delete(e, "PCS_SESSION_KEYS")
	e["PCS_CLIENT_SECRET_FILE"], e["PCS_SESSION_KEYS_FILE"] = secret, keys
	c, err := Load(nil, env(e), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientCredential != clientauth.Secret("from-file") || len(c.SessionKeys) != 4 {
		t.Errorf("credential %v, %d keys", c.ClientCredential, len(c.SessionKeys))
	}
	e["PCS_CLIENT_SECRET"] = "also"
	if _, err := Load(nil, env(e), io.Discard); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Errorf("secret and secret file both set: %v", err)
	}
}

func TestBadSessionKeys(t *testing.T) {
	for _, keys := range []string{key(32), key(16) + " " + key(32), key(32) + " " + key(8), "not base64! " + key(32)} {
		e := production()
		e["PCS_SESSION_KEYS"] = keys
		if _, err := Load(nil, env(e), io.Discard); err == nil || !strings.Contains(err.Error(), "PCS_SESSION_KEYS") {
			t.Errorf("keys %q accepted: %v", keys, err)
		}
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	e := production()
	e["PCS_LISTEN"] = ":9000"
	c, err := Load([]string{"--listen", ":9100"}, env(e), io.Discard)
	if err != nil || c.ListenAddr != ":9100" {
		t.Fatalf("listen = %v, %v", c, err)
	}
}

// The README documents every setting, so that operators never have to read the code.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Documented() {
		if !strings.Contains(string(b), "--"+s[0]) || (s[1] != "" && !strings.Contains(string(b), s[1])) {
			t.Errorf("README does not document --%s / %s", s[0], s[1])
		}
	}
}

// A malformed switch is listed with the other problems rather than stopping the parse.
func TestMalformedSwitchIsListedWithTheOthers(t *testing.T) {
	e := production()
	delete(e, "PCS_CLIENT_ID")
	_, err := Load([]string{"--proxy-strips-prefix=perhaps"}, env(e), io.Discard)
	if err == nil || !strings.Contains(err.Error(), `PCS_PROXY_STRIPS_PREFIX "perhaps" must be true or false`) || !strings.Contains(err.Error(), "PCS_CLIENT_ID") {
		t.Errorf("err = %v", err)
	}
}

// --help names every setting with its variable; --dev has none.
func TestHelpListsEverySetting(t *testing.T) {
	var out strings.Builder
	if _, err := Load([]string{"--help"}, env(nil), &out); err != ErrHelp {
		t.Fatalf("err = %v", err)
	}
	for _, s := range Documented() {
		if !strings.Contains(out.String(), "--"+s[0]) || s[1] != "" && !strings.Contains(out.String(), "env "+s[1]) {
			t.Errorf("help lacks --%s / %s", s[0], s[1])
		}
	}
	if !strings.Contains(out.String(), "--dev\n") || !strings.Contains(out.String(), "(no environment variable)") {
		t.Errorf("help does not say that --dev has no variable:\n%s", out.String())
	}
}
