package devidp

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Sign-out follows post_logout_redirect_uri only with an ID token issued to the client
// (id_token_hint), even an expired one, as ory/hydra, Duende IdentityServer and Connect2id do;
// otherwise it answers an error, and sends no one anywhere.
func TestEndSessionRedirectsOnlyWithTheClientsIDToken(t *testing.T) {
	const otherID, otherSecret = "other-app", "other-secret"
	e := newTestEnv(t, "", func(o *Options) {
		o.IDTokenLifetime = time.Second
		o.Clients = append(o.Clients, Client{ID: otherID, Secret: otherSecret, RedirectURIs: []string{redirectURI}})
	})
	tok, _ := e.tokens(t, "admin")
	hint, _ := tok.Extra("id_token").(string)
	app := e.oauth
	e.oauth.ClientID, e.oauth.ClientSecret = otherID, otherSecret
	otherTok, _ := e.tokens(t, "admin")
	otherHint, _ := otherTok.Extra("id_token").(string)
	e.oauth = app
	var d struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := e.oidc.Claims(&d); err != nil {
		t.Fatal(err)
	}
	const back = "http://127.0.0.1:9/" // registered: the origin of the redirect URI
	endSession := func(q url.Values) (int, string) {
		t.Helper()
		noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirects.Get(d.EndSession + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}

	for _, tc := range []struct {
		name string
		q    url.Values
		want string // where the browser is sent; "" for an error and no redirect
	}{
		{"the client's ID token", url.Values{"id_token_hint": {hint}, "client_id": {clientID}, "post_logout_redirect_uri": {back}, "state": {"bye"}}, back + "?state=bye"},
		{"no id_token_hint", url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {back}}, ""},
		{"another client's ID token", url.Values{"id_token_hint": {otherHint}, "client_id": {clientID}, "post_logout_redirect_uri": {back}}, ""},
		{"a forged ID token", url.Values{"id_token_hint": {hint[:strings.LastIndex(hint, ".")+1] + "AAAA"}, "post_logout_redirect_uri": {back}}, ""},
		{"an unregistered address", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://127.0.0.1:9/elsewhere"}}, ""},
		{"nowhere asked for", url.Values{}, e.provider.Issuer() + signedOutPath},
	} {
		status, location := endSession(tc.q)
		if location != tc.want || tc.want == "" && status != http.StatusBadRequest {
			t.Errorf("%s: %d to %q, want %q", tc.name, status, location, cmp.Or(tc.want, "400 and no redirect"))
		}
	}
	time.Sleep(2 * time.Second) // past the ID token's exp
	if _, location := endSession(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {back}}); location != back {
		t.Errorf("an expired ID token of the client: sent to %q, want %q", location, back)
	}
	if got := e.provider.Stats().SignOuts; got != 2 {
		t.Errorf("Stats.SignOuts %d, want the 2 sign-outs that named the person", got)
	}
}
