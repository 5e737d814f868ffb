package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"pcsupport/internal/pcemu"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want config
	}{
		{
			name: "defaults",
			args: []string{"--jwks-url", "http://127.0.0.1:8081/keys"},
			want: config{Listen: "127.0.0.1:8090", JWKSURL: "http://127.0.0.1:8081/keys"},
		},
		{
			name: "every flag",
			args: []string{"--listen=:9000", "--issuer", "https://idp.example", "--audience", "a, b", "--audience=c",
				"--default-role", "salesagent", "--role", "t1:o1=AccountAdmin", "--role", "t2:o2=adminagent,t3:o3=BillingAdmin",
				"--bom", "--rate-limit", "5", "--profiles-file", "/tmp/pcemu.json"},
			want: config{Listen: ":9000", Issuer: "https://idp.example", Audiences: []string{"a", "b", "c"},
				DefaultRole: "SalesAgent", BOM: true, RateLimit: 5, ProfilesFile: "/tmp/pcemu.json", Roles: []roleAssignment{
					{"t1", "o1", "AccountAdmin"}, {"t2", "o2", "AdminAgent"}, {"t3", "o3", "BillingAdmin"}}},
		},
		{
			name: "environment",
			env: map[string]string{"PCEMU_LISTEN": "0.0.0.0:1", "PCEMU_JWKS_URL": "https://idp.example/jwks", "PCEMU_AUDIENCE": "x,y",
				"PCEMU_ROLE": "t:o=GlobalAdmin", "PCEMU_BOM": "true", "PCEMU_RATE_LIMIT": "3", "PCEMU_DEFAULT_ROLE": "AccountAdmin"},
			want: config{Listen: "0.0.0.0:1", JWKSURL: "https://idp.example/jwks", Audiences: []string{"x", "y"},
				DefaultRole: "AccountAdmin", BOM: true, RateLimit: 3, Roles: []roleAssignment{{"t", "o", "GlobalAdmin"}}},
		},
		{
			name: "flags win over the environment, lists included",
			args: []string{"--audience", "flag", "--bom=false", "--rate-limit", "0"},
			env:  map[string]string{"PCEMU_ISSUER": "http://idp.test", "PCEMU_AUDIENCE": "env1,env2", "PCEMU_BOM": "1", "PCEMU_RATE_LIMIT": "9"},
			want: config{Listen: "127.0.0.1:8090", Issuer: "http://idp.test", Audiences: []string{"flag"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got.Listen != tt.want.Listen || got.JWKSURL != tt.want.JWKSURL || got.Issuer != tt.want.Issuer ||
				!slices.Equal(got.Audiences, tt.want.Audiences) || got.DefaultRole != tt.want.DefaultRole ||
				!slices.Equal(got.Roles, tt.want.Roles) || got.BOM != tt.want.BOM || got.RateLimit != tt.want.RateLimit ||
				got.ProfilesFile != tt.want.ProfilesFile {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseConfigListsEveryProblem(t *testing.T) {
	_, err := parseConfig([]string{"--listen", "nowhere", "--issuer", "ftp://x", "--role", "nonsense", "--role", "t:o=Boss",
		"--default-role", "King", "--bom=maybe", "--rate-limit", "-1", "extra"}, env(map[string]string{"PCEMU_RATE_LIMIT": "x"}), io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"--listen", "--issuer", `--role "nonsense"`, `"Boss"`, "--default-role", "--bom", "--rate-limit", "unexpected arguments"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	_, err = parseConfig(nil, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--jwks-url or --issuer is required") {
		t.Errorf("missing key source: %v", err)
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"--help"}, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"-listen", "PCEMU_LISTEN", "-jwks-url", "-issuer", "-audience", "-default-role", "-role", "-bom", "-rate-limit", "PCEMU_RATE_LIMIT", "-profiles-file", "/_emulator/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s:\n%s", want, out.String())
		}
	}
}

// TestServeWithDiscoveredKeys runs the command's pieces against a small
// provider: discovery, a token it signed, and a graceful stop.
func TestServeWithDiscoveredKeys(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	idp := httptest.NewServer(mux)
	defer idp.Close()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": idp.URL, "jwks_uri": idp.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, err := parseConfig([]string{"--issuer", idp.URL, "--role", "tid1:oid1=AccountAdmin"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	keySet, err := newKeySet(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, newEmulator(cfg, keySet, log), log) }()

	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	token, _ := jwt.Signed(signer).Claims(map[string]any{
		"iss": idp.URL, "aud": pcemu.AudienceURL, "exp": time.Now().Add(time.Hour).Unix(), "tid": "tid1", "oid": "oid1",
		"scp": "user_impersonation", "idtyp": "user", "amr": []string{"pwd", "mfa"},
	}).Serialize()
	req, _ := http.NewRequest(http.MethodPut, "http://"+ln.Addr().String()+"/v1/profiles/support",
		strings.NewReader(`{"Email":"a@b.example","Telephone":"4255550100","Website":"b.example"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT = %d %s", resp.StatusCode, body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve = %v", err)
	}
}

func TestDiscoveryFailureIsReported(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := newKeySet(context.Background(), config{Issuer: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "discover") {
		t.Errorf("err = %v", err)
	}
}
