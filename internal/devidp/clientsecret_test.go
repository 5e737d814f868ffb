package devidp

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"pcsupport/internal/clientauth"
)

// The client is registered for one way of sending its secret, as ory/hydra registers one: the
// other way is refused with invalid_client, the right secret notwithstanding, for the code and
// for a refresh. Discovery lists exactly the method accepted.
func TestClientSecretOnlyAsRegistered(t *testing.T) {
	const secret = "dev+secret%2F:with space" // decoded from Basic as RFC 6749 §2.3.1 says
	styles := map[string]oauth2.AuthStyle{"client_secret_basic": oauth2.AuthStyleInHeader, "client_secret_post": oauth2.AuthStyleInParams}
	for _, tc := range []struct{ registered, accepted string }{
		{"", "client_secret_basic"},
		{"client_secret_basic", "client_secret_basic"},
		{"client_secret_post", "client_secret_post"},
	} {
		t.Run(tc.accepted+" registered as "+cmp.Or(tc.registered, "the default"), func(t *testing.T) {
			e := newTestEnv(t, "", func(o *Options) { o.Clients[0].Secret, o.Clients[0].SecretMethod = secret, tc.registered })
			if got := discoveredAuthMethods(t, e); !slices.Equal(got, []string{tc.accepted}) {
				t.Errorf("token_endpoint_auth_methods_supported %v, want [%s]", got, tc.accepted)
			}
			e.oauth.ClientSecret = secret
			for method, style := range styles {
				e.oauth.Endpoint.AuthStyle = style
				tok, err := e.redeemCode(t)
				if method != tc.accepted {
					wantOAuthError(t, err, "invalid_client")
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", method, err)
				}
				for other, otherStyle := range styles {
					if other != method {
						e.oauth.Endpoint.AuthStyle = otherStyle
						_, err := e.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
						wantOAuthError(t, err, "invalid_client")
						e.oauth.Endpoint.AuthStyle = style
					}
				}
				e.refresh(t, tok.RefreshToken)
				e.oauth.ClientSecret = "wrong"
				_, err = e.redeemCode(t)
				wantOAuthError(t, err, "invalid_client")
				e.oauth.ClientSecret = secret
			}
		})
	}
}

// redeemCode signs in as admin and redeems the code with e.oauth as it stands.
func (e *testEnv) redeemCode(t *testing.T) (*oauth2.Token, error) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	got := e.signIn(t, "admin", oauth2.S256ChallengeOption(verifier))
	return e.oauth.Exchange(t.Context(), got.Get("code"), oauth2.VerifierOption(verifier))
}

func discoveredAuthMethods(t *testing.T, e *testEnv) []string {
	t.Helper()
	var d struct {
		TokenAuth []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := e.oidc.Claims(&d); err != nil {
		t.Fatal(err)
	}
	return d.TokenAuth
}

// Discovery lists the methods of the registered clients and no other, so that a client reading
// it picks one that works.
func TestDiscoveryListsTheRegisteredMethods(t *testing.T) {
	cert, _, err := clientauth.SelfSigned("pcsupport dev", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		clients []Client
		want    []string
	}{
		"a certificate":            {[]Client{{ID: clientID, Certificate: cert, RedirectURIs: []string{redirectURI}}}, []string{"private_key_jwt"}},
		"a public client":          {[]Client{{ID: clientID, RedirectURIs: []string{redirectURI}}}, []string{"none"}},
		"post and a certificate":   {[]Client{{ID: clientID, Secret: "s", SecretMethod: "client_secret_post", RedirectURIs: []string{redirectURI}}, {ID: "b", Certificate: cert, RedirectURIs: []string{redirectURI}}}, []string{"client_secret_post", "private_key_jwt"}},
		"basic and post, one each": {[]Client{{ID: clientID, Secret: "s", SecretMethod: "client_secret_post", RedirectURIs: []string{redirectURI}}, {ID: "b", Secret: "t", RedirectURIs: []string{redirectURI}}}, []string{"client_secret_basic", "client_secret_post"}},
	} {
		e := newTestEnv(t, "", func(o *Options) { o.Clients = tc.clients })
		if got := discoveredAuthMethods(t, e); !slices.Equal(got, tc.want) {
			t.Errorf("%s: token_endpoint_auth_methods_supported %v, want %v", name, got, tc.want)
		}
	}
}
