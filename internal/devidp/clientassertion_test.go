package devidp

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"pcsupport/internal/clientauth"
)

// exchangeWith signs in as admin and redeems the code with the form parameters that credential
// adds (no secret).
func (e *testEnv) exchangeWith(t *testing.T, credential clientauth.Credential) (*oauth2.Token, url.Values, error) {
	t.Helper()
	form := url.Values{}
	if err := credential.AddTo(form, e.oauth.Endpoint.TokenURL); err != nil {
		t.Fatal(err)
	}
	verifier := oauth2.GenerateVerifier()
	got := e.signIn(t, "admin", oauth2.S256ChallengeOption(verifier))
	tok, err := e.oauth.Exchange(t.Context(), got.Get("code"), append(params(form), oauth2.VerifierOption(verifier))...)
	return tok, form, err
}

func params(form url.Values) []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	for k := range form {
		opts = append(opts, oauth2.SetAuthURLParam(k, form.Get(k)))
	}
	return opts
}

func certificateCredential(t *testing.T) (*clientauth.Certificate, *Client) {
	t.Helper()
	cert, key, err := clientauth.SelfSigned("pcsupport dev", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientauth.NewCertificate(clientID, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return c, &Client{ID: clientID, Certificate: cert, RedirectURIs: []string{redirectURI}}
}

func withClient(c *Client) func(*Options) {
	return func(o *Options) { o.Clients = []Client{*c} }
}

// A client registered with a certificate signs in with an assertion addressed to the token
// endpoint; a replayed assertion, another certificate and a secret are refused.
func TestCertificateClient(t *testing.T) {
	good, client := certificateCredential(t)
	e := newTestEnv(t, "/tenant/v2.0", withClient(client))
	e.oauth.ClientSecret, e.oauth.Endpoint.AuthStyle = "", oauth2.AuthStyleInParams
	tok, used, err := e.exchangeWith(t, good)
	if err != nil {
		t.Fatalf("exchange with the registered certificate: %v", err)
	}
	refresh := func(form url.Values) error {
		_, err := e.oauth.Exchange(t.Context(), "", append(params(form), oauth2.SetAuthURLParam("grant_type", "refresh_token"),
			oauth2.SetAuthURLParam("refresh_token", tok.RefreshToken))...)
		return err
	}
	if err := refresh(used); err == nil || !strings.Contains(err.Error(), "AADSTS700023") {
		t.Errorf("replayed assertion: %v", err)
	}
	fresh := url.Values{}
	_ = good.AddTo(fresh, e.oauth.Endpoint.TokenURL)
	if err := refresh(fresh); err != nil {
		t.Errorf("refresh with a new assertion: %v", err)
	}

	stranger, _ := certificateCredential(t)
	_, _, err = e.exchangeWith(t, stranger)
	wantOAuthError(t, err, "invalid_client")
	_, _, err = e.exchangeWith(t, clientauth.Secret("guess"))
	wantOAuthError(t, err, "invalid_client")

	wrongAudience := url.Values{}
	_ = good.AddTo(wrongAudience, e.provider.Issuer()) // op's own private_key_jwt wants this; Entra ID does not
	if err := refresh(wrongAudience); err == nil || !strings.Contains(err.Error(), "AADSTS700024") {
		t.Errorf("assertion addressed to the issuer: %v", err)
	}
}

// A client with a federated credential signs in with the workload issuer's token; a token of
// another issuer, or for another service account, is refused.
func TestFederatedClient(t *testing.T) {
	issuer, err := NewWorkloadIssuer("https://kubernetes.dev.invalid", "system:serviceaccount:pcsupport:web", "api://AzureADTokenExchange")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewWorkloadIssuer("https://kubernetes.dev.invalid", "system:serviceaccount:pcsupport:other", "api://AzureADTokenExchange")
	e := newTestEnv(t, "", withClient(&Client{ID: clientID, Federated: issuer.Credential(), RedirectURIs: []string{redirectURI}}))
	e.oauth.ClientSecret, e.oauth.Endpoint.AuthStyle = "", oauth2.AuthStyleInParams

	file := t.TempDir() + "/token"
	if err := issuer.WriteToken(file, time.Hour); err != nil {
		t.Fatal(err)
	}
	credential, err := clientauth.NewFederatedToken(clientID, file)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.exchangeWith(t, credential); err != nil {
		t.Errorf("exchange with the workload token: %v", err)
	}
	if err := other.WriteToken(file, time.Hour); err != nil { // another issuer's key
		t.Fatal(err)
	}
	_, _, err = e.exchangeWith(t, credential)
	wantOAuthError(t, err, "invalid_client")

	// The issuer's key, but the app registration trusts another service account.
	elsewhere := *issuer.Credential()
	elsewhere.Subject = "system:serviceaccount:pcsupport:other"
	e2 := newTestEnv(t, "", withClient(&Client{ID: clientID, Federated: &elsewhere, RedirectURIs: []string{redirectURI}}))
	e2.oauth.ClientSecret, e2.oauth.Endpoint.AuthStyle = "", oauth2.AuthStyleInParams
	_ = issuer.WriteToken(file, time.Hour)
	if _, _, err := e2.exchangeWith(t, credential); err == nil || !strings.Contains(err.Error(), "AADSTS70021") {
		t.Errorf("token of another subject: %v", err)
	}
}

func TestClientWithTwoCredentialsIsRefused(t *testing.T) {
	_, c := certificateCredential(t)
	c.Secret = "also"
	if _, err := New(Options{Issuer: "http://127.0.0.1:1", Clients: []Client{*c}}); err == nil || !strings.Contains(err.Error(), "more than one") {
		t.Errorf("New: %v", err)
	}
}
