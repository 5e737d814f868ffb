package devsignin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFormValues(t *testing.T) {
	page := []byte(`<form method="post" action="/auth/signout"><input type="hidden" name="_csrf" value="tok"></form>
<div id="profile"><form hx-post="/save"><input id="email" name="email" type="email" value="a@b.example"/>
<input name="telephone" value="+1 425 555 0100" type="tel"><input name="website" value="www.b.example">
<input type="hidden" name="_csrf" value="tok"/><input type="hidden" name="loaded" value="WyJ4Il0"/>
<input type="hidden" name="submission" value="0f8b6c4e-2a1d-4e7f-9b3c-5d6e7f8a9b0c"/><input type="submit"></form></div>`)
	v := FormValues(page)
	want := map[string]string{"email": "a@b.example", "telephone": "+1 425 555 0100", "website": "www.b.example",
		"_csrf": "tok", "loaded": "WyJ4Il0", "submission": "0f8b6c4e-2a1d-4e7f-9b3c-5d6e7f8a9b0c"}
	for k, w := range want {
		if got := v.Get(k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	if len(v) != len(want) {
		t.Errorf("read %d names, want %d: %v", len(v), len(want), v)
	}
}

// The persona is posted with the page's hidden fields to the form's action, relative to the
// page's URL, and the client's redirects are followed as it was built to.
func TestSignInPostsThePersonaWithTheHiddenFields(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/idp/login", http.StatusFound)
	})
	mux.HandleFunc("GET /idp/login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<form method="post" action="choose"><input type="hidden" name="authRequestID" value="r1">
<button name="persona" value="admin">Ada</button></form>`)
	})
	mux.HandleFunc("POST /idp/choose", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		fmt.Fprintf(w, "request %s, persona %s", r.PostForm.Get("authRequestID"), r.PostForm.Get("persona"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	resp, err := SignIn(context.Background(), &http.Client{Jar: jar}, srv.URL+"/start", "sales")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "request r1, persona sales" {
		t.Errorf("the provider got %q", body)
	}
}

func TestSignInWithoutAFormSaysWhereItLanded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := SignIn(context.Background(), http.DefaultClient, srv.URL+"/x", "admin")
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), srv.URL+"/x") ||
		!strings.Contains(err.Error(), "down for maintenance") {
		t.Errorf("error %v; want the status, the URL and the page", err)
	}
}
