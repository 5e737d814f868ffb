package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"pcsupport/internal/auth"
)

// identitySessions is a session store of one session; only what the identity code uses works.
type identitySessions struct {
	SignIn   // nil: any other method panics
	user     *auth.User
	signOuts int
	hint     string
}

func (s *identitySessions) CurrentUser(*http.Request) (auth.User, error) {
	if s.user == nil {
		return auth.User{}, auth.ErrNotSignedIn
	}
	return *s.user, nil
}

func (s *identitySessions) SignOut(http.ResponseWriter, *http.Request) error {
	s.user = nil
	s.signOuts++
	return nil
}

func (s *identitySessions) StartSignIn(_ http.ResponseWriter, _ *http.Request, _ string, o auth.SignInOptions) (string, error) {
	s.hint = o.LoginHint
	return "https://idp.example/authorize", nil
}

type noAssets struct{}

func (noAssets) Path(name string) string { return name }

func TestEndSessionOfSomeoneElse(t *testing.T) {
	ada := auth.User{Name: "Ada Admin", Username: "ada@contoso.example", Email: "ada.admin@contoso.example"}
	tests := []struct {
		name      string
		user      *auth.User
		signedIn  time.Duration // ago
		header    string
		status    int
		body      string
		signOuts  int
		stillUser bool
	}{
		{"no header", &ada, time.Hour, "", 200, "user ada@contoso.example", 0, true},
		{"same user name, other case", &ada, time.Hour, "ADA@Contoso.example", 200, "user ada@contoso.example", 0, true},
		{"same email", &ada, time.Hour, "ada.admin@contoso.example", 200, "user ada@contoso.example", 0, true},
		{"signed out already", nil, 0, "sam@contoso.example", 200, "signed out", 0, false},
		{"someone else, later: the session ends and the request goes on signed out", &ada, time.Hour, "sam@contoso.example", 200, "signed out", 1, false},
		{"someone else, just signed in: explained, no loop", &ada, 5 * time.Second, "sam@contoso.example", 403, "sam@contoso.example", 1, false},
		{"nothing to compare with", &auth.User{Subject: "x"}, time.Hour, "sam@contoso.example", 200, "user ", 0, true},
	}
	for _, tt := range tests {
		s := &identitySessions{}
		if tt.user != nil {
			u := *tt.user
			u.SignedInAt = time.Now().Add(-tt.signedIn)
			s.user = &u
		}
		h := New(Options{Users: s, SignIn: s, Assets: noAssets{}, BasePath: "/p/"})
		e := echo.New()
		g := e.Group("/p", h.EndSessionOfSomeoneElse("X-Forwarded-Email"))
		g.GET("/", func(c echo.Context) error {
			u, err := h.users.CurrentUser(c.Request())
			if err != nil {
				return c.String(http.StatusOK, "signed out")
			}
			return c.String(http.StatusOK, "user "+u.Username)
		})
		req := httptest.NewRequest(http.MethodGet, "/p/", nil)
		if tt.header != "" {
			req.Header.Set("X-Forwarded-Email", tt.header)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) || s.signOuts != tt.signOuts || (s.user != nil) != tt.stillUser {
			t.Errorf("%s: %d %q, %d sign-outs, user kept %v", tt.name, rec.Code, truncate(rec.Body.String()), s.signOuts, s.user != nil)
		}
		if tt.status == http.StatusForbidden && !strings.Contains(rec.Body.String(), `href="/p/auth/signin?next=%2Fp%2F"`) {
			t.Errorf("%s: no way to sign in again under the base path:\n%s", tt.name, rec.Body.String())
		}
	}
}

func TestLoginHintFrom(t *testing.T) {
	s := &identitySessions{}
	if got := LoginHintFrom(s, ""); got != SignIn(s) {
		t.Error("without a header the sessions should be used as they are")
	}
	hinted := LoginHintFrom(s, "X-Forwarded-Email")
	req := httptest.NewRequest(http.MethodGet, "/auth/signin", nil)
	req.Header.Set("X-Forwarded-Email", " ada@contoso.example ")
	if _, err := hinted.StartSignIn(nil, req, "/", auth.SignInOptions{}); err != nil || s.hint != "ada@contoso.example" {
		t.Errorf("hint %q, %v", s.hint, err)
	}
	if _, _ = hinted.StartSignIn(nil, req, "/", auth.SignInOptions{LoginHint: "explicit@contoso.example"}); s.hint != "explicit@contoso.example" {
		t.Errorf("an explicit hint was replaced by %q", s.hint)
	}
	if _, _ = hinted.StartSignIn(nil, httptest.NewRequest(http.MethodGet, "/", nil), "/", auth.SignInOptions{}); s.hint != "" {
		t.Errorf("hint %q without a header", s.hint)
	}
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
