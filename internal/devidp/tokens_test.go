package devidp

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestSignInIssuesEntraShapedTokens(t *testing.T) {
	for _, tc := range []struct {
		persona string
		amr     []string
	}{
		{"admin", []string{"pwd", "mfa"}},
		{"sales", []string{"pwd", "mfa"}},
		{"nomfa", []string{"pwd"}},
	} {
		t.Run(tc.persona, func(t *testing.T) {
			e := newTestEnv(t, "", nil)
			p := persona(t, tc.persona)
			tok, nonce := e.tokens(t, tc.persona)

			rawID, _ := tok.Extra("id_token").(string)
			idToken, err := e.oidc.Verifier(&oidc.Config{ClientID: clientID}).Verify(t.Context(), rawID)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idToken.Nonce != nonce {
				t.Errorf("ID token nonce %q, want %q", idToken.Nonce, nonce)
			}
			if !slices.Equal(idToken.Audience, []string{clientID}) {
				t.Errorf("ID token aud %v, want only the client id", idToken.Audience)
			}
			if idToken.Subject != p.ObjectID {
				t.Errorf("ID token sub %q, want %q", idToken.Subject, p.ObjectID)
			}
			if time.Until(idToken.Expiry) < 59*time.Minute {
				t.Errorf("ID token expires at %v, want in an hour", idToken.Expiry)
			}
			var id struct {
				Name              string   `json:"name"`
				PreferredUsername string   `json:"preferred_username"`
				Email             string   `json:"email"`
				OID               string   `json:"oid"`
				TID               string   `json:"tid"`
				AMR               []string `json:"amr"`
			}
			if err := idToken.Claims(&id); err != nil {
				t.Fatal(err)
			}
			if id.Name != p.Name || id.PreferredUsername != p.UPN || id.Email != p.UPN || id.OID != p.ObjectID || id.TID != TenantID || !slices.Equal(id.AMR, tc.amr) {
				t.Errorf("ID token claims %+v, want those of %+v with amr %v", id, p, tc.amr)
			}

			at := e.accessClaims(t, tok.AccessToken)
			want := accessTokenClaims{
				Issuer: e.provider.Issuer(), Subject: p.ObjectID, Audience: []string{pcResource},
				TenantID: TenantID, ObjectID: p.ObjectID, Name: p.Name, UPN: p.UPN, PreferredUsername: p.UPN,
				AMR: tc.amr, Scope: "user_impersonation", IDType: "user",
				Expiry: at.Expiry, IssuedAt: at.IssuedAt, NotBefore: at.NotBefore,
			}
			if !equalJSON(at, want) {
				t.Errorf("access token claims\n got %+v\nwant %+v", at, want)
			}
			if at.Expiry-at.IssuedAt != 3600 || at.NotBefore == 0 {
				t.Errorf("access token iat %d nbf %d exp %d, want an hour's life", at.IssuedAt, at.NotBefore, at.Expiry)
			}
			if tok.ExpiresIn != 3600 {
				t.Errorf("expires_in %d, want 3600", tok.ExpiresIn)
			}
			if tok.RefreshToken == "" {
				t.Error("no refresh token, want one for offline_access")
			}

			info, err := e.oidc.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if info.Subject != p.ObjectID || info.Email != p.UPN {
				t.Errorf("userinfo %+v, want %s", info, p.UPN)
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestIssuerWithPath(t *testing.T) {
	e := newTestEnv(t, "/"+TenantID+"/v2.0", nil)
	tok, _ := e.tokens(t, "admin")
	rawID, _ := tok.Extra("id_token").(string)
	if _, err := e.oidc.Verifier(&oidc.Config{ClientID: clientID}).Verify(t.Context(), rawID); err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if iss := e.accessClaims(t, tok.AccessToken).Issuer; iss != e.provider.Issuer() {
		t.Errorf("access token iss %q, want %q", iss, e.provider.Issuer())
	}
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	e := newTestEnv(t, "", nil)
	e.oauth.Scopes = []string{"openid", "profile", pcScope}
	tok, _ := e.tokens(t, "admin")
	if tok.RefreshToken != "" {
		t.Error("refresh token issued without offline_access")
	}
}

func TestAudienceIsClientWithoutResourceScope(t *testing.T) {
	e := newTestEnv(t, "", nil)
	e.oauth.Scopes = []string{"openid", "profile"}
	tok, _ := e.tokens(t, "admin")
	if at := e.accessClaims(t, tok.AccessToken); !slices.Equal(at.Audience, []string{clientID}) || at.Scope != "" {
		t.Errorf("aud %v scp %q, want the client id and no scp", at.Audience, at.Scope)
	}
}

func TestRefreshRotatesTheRefreshToken(t *testing.T) {
	e := newTestEnv(t, "", func(o *Options) {
		o.AccessTokenLifetime = 5 * time.Second
		o.IDTokenLifetime = 2 * time.Minute
	})
	first, _ := e.tokens(t, "admin")
	if first.ExpiresIn != 5 {
		t.Errorf("expires_in %d, want AccessTokenLifetime 5", first.ExpiresIn)
	}
	if at := e.accessClaims(t, first.AccessToken); at.Expiry-at.IssuedAt != 5 {
		t.Errorf("access token lives %ds, want 5", at.Expiry-at.IssuedAt)
	}

	second := e.refresh(t, first.RefreshToken)
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh returned refresh token %q, want a new one", second.RefreshToken)
	}
	before, after := e.accessClaims(t, first.AccessToken), e.accessClaims(t, second.AccessToken)
	after.Expiry, after.IssuedAt, after.NotBefore = before.Expiry, before.IssuedAt, before.NotBefore
	if !equalJSON(before, after) {
		t.Errorf("refreshed access token claims\n got %+v\nwant %+v", after, before)
	}
	rawID, _ := second.Extra("id_token").(string)
	idToken, err := e.oidc.Verifier(&oidc.Config{ClientID: clientID}).Verify(t.Context(), rawID)
	if err != nil {
		t.Fatalf("verify refreshed ID token: %v", err)
	}
	if life := time.Until(idToken.Expiry); life > 2*time.Minute || life < time.Minute {
		t.Errorf("refreshed ID token expires in %v, want IDTokenLifetime 2m", life)
	}

	_, err = e.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	wantOAuthError(t, err, "invalid_grant")
	e.refresh(t, second.RefreshToken) // the new one still works

	if got, want := e.provider.Stats(), (Stats{SignIns: 1, CodeExchanges: 1, Refreshes: 2, RefusedRefreshes: 1}); got != want {
		t.Errorf("Stats %+v, want %+v", got, want)
	}
}

func TestRevokeRefreshTokens(t *testing.T) {
	e := newTestEnv(t, "", nil)
	admin, _ := e.tokens(t, "admin")
	sales, _ := e.tokens(t, "sales")

	e.provider.RevokeRefreshTokens(persona(t, "admin").ObjectID)

	_, err := e.oauth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: admin.RefreshToken}).Token()
	wantOAuthError(t, err, "invalid_grant")
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && !strings.HasPrefix(re.ErrorDescription, "AADSTS700082") {
		t.Errorf("error_description %q, want AADSTS700082", re.ErrorDescription)
	}
	e.refresh(t, sales.RefreshToken)

	if got, want := e.provider.Stats(), (Stats{SignIns: 2, CodeExchanges: 2, Refreshes: 1, RefusedRefreshes: 1}); got != want {
		t.Errorf("Stats %+v, want %+v", got, want)
	}
}

func TestCodeExchangeRefusals(t *testing.T) {
	e := newTestEnv(t, "", nil)
	exchange := func(code string, opts ...oauth2.AuthCodeOption) error {
		_, err := e.oauth.Exchange(t.Context(), code, opts...)
		return err
	}

	t.Run("wrong verifier", func(t *testing.T) {
		got := e.signIn(t, "admin", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, exchange(got.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())), "invalid_grant")
	})
	t.Run("no verifier", func(t *testing.T) {
		got := e.signIn(t, "admin", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, exchange(got.Get("code")), "invalid_request")
	})
	t.Run("code used twice", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		got := e.signIn(t, "admin", oauth2.S256ChallengeOption(verifier))
		if err := exchange(got.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("first exchange: %v", err)
		}
		wantOAuthError(t, exchange(got.Get("code"), oauth2.VerifierOption(verifier)), "invalid_grant")
	})
	t.Run("unknown client", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		got := e.signIn(t, "admin", oauth2.S256ChallengeOption(verifier))
		other := e.oauth
		other.ClientID = "someone-else"
		_, err := other.Exchange(t.Context(), got.Get("code"), oauth2.VerifierOption(verifier))
		wantOAuthError(t, err, "invalid_client")
	})
	t.Run("unknown code", func(t *testing.T) {
		wantOAuthError(t, exchange("not-a-code", oauth2.VerifierOption(oauth2.GenerateVerifier())), "invalid_grant")
	})
}

func TestResourceScope(t *testing.T) {
	for scope, want := range map[string][2]string{
		pcScope: {pcResource, "user_impersonation"},
		"https://partner.partnercenterapi.microsoftonline.cn/user_impersonation": {"https://partner.partnercenterapi.microsoftonline.cn", "user_impersonation"},
		"api://6e1f/access_as_user": {"api://6e1f", "access_as_user"},
		"openid":                    {},
		"https://example.com":       {},
		"https://example.com/":      {},
	} {
		resource, permission, _ := resourceScope(scope)
		if [2]string{resource, permission} != want {
			t.Errorf("resourceScope(%q) = %q, %q, want %q", scope, resource, permission, want)
		}
	}
}
