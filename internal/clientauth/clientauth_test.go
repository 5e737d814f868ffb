package clientauth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestSecretMethodFollowsDiscoveryBasicFirst(t *testing.T) {
	for _, tc := range []struct {
		name      string
		forced    string
		supported []string
		want      string
	}{
		{"no list in discovery: the OAuth default", AutoMethod, nil, SecretBasic},
		{"empty list", "", []string{}, SecretBasic},
		{"both listed, post first (Entra ID)", AutoMethod, []string{SecretPost, "private_key_jwt", SecretBasic}, SecretBasic},
		{"basic only", AutoMethod, []string{SecretBasic}, SecretBasic},
		{"post only", AutoMethod, []string{SecretPost, "private_key_jwt"}, SecretPost},
		{"neither listed", AutoMethod, []string{"private_key_jwt"}, SecretBasic},
		{"forced post beside a list of both", SecretPost, []string{SecretBasic, SecretPost}, SecretPost},
		{"forced basic against a list of post", SecretBasic, []string{SecretPost}, SecretBasic},
	} {
		if got := SecretMethod(tc.forced, tc.supported); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// A secret and a client id with characters that mean something in a form or in Basic
// credentials reach a provider that decodes them as RFC 6749 §2.3.1 says, and the header is the
// one golang.org/x/oauth2 sends.
func TestBasicAuthEncodesAsRFC6749Says(t *testing.T) {
	const clientID, secret = "app:one+two", "s+e%2Fc:r e/t=ü~"
	header := Secret(secret).BasicAuth(clientID)

	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(header, "Basic "))
	if err != nil || !strings.HasPrefix(header, "Basic ") {
		t.Fatalf("header %q: %v", header, err)
	}
	escapedID, escapedSecret, _ := strings.Cut(string(raw), ":")
	gotID, err1 := url.QueryUnescape(escapedID)
	gotSecret, err2 := url.QueryUnescape(escapedSecret)
	if err1 != nil || err2 != nil || gotID != clientID || gotSecret != secret {
		t.Errorf("the provider reads client %q secret %q (%v %v), want %q %q", gotID, gotSecret, err1, err2, clientID, secret)
	}

	var sent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"a","token_type":"Bearer"}`))
	}))
	defer srv.Close()
	oc := oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInHeader}}
	if _, err := oc.Exchange(t.Context(), "code"); err != nil {
		t.Fatal(err)
	}
	if sent != header {
		t.Errorf("header %q, golang.org/x/oauth2 sends %q", header, sent)
	}
}
