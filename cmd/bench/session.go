package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"pcsupport/internal/devsignin"
)

// session is one person's browser: its own cookie jar, and the form as the page last showed it.
type session struct {
	appURL   string
	client   *http.Client // does not follow redirects: a redirect under load is an error
	form     url.Values
	nextTel  int
	signedIn time.Time
	lastUsed time.Time
}

// newTransport is shared by the sessions of one target, with an idle connection for each.
func newTransport(conns int) *http.Transport {
	return &http.Transport{MaxIdleConns: conns + 16, MaxIdleConnsPerHost: conns + 16, IdleConnTimeout: 90 * time.Second}
}

// signIn goes through the real OpenID Connect dance as a browser without JavaScript would: the
// app sends it to the dev provider, it picks the persona, the provider sends it back with a
// code, and the app shows the form. id numbers the session's telephone numbers.
func signIn(ctx context.Context, id int, appURL, persona string, tr http.RoundTripper) (*session, error) {
	jar, _ := cookiejar.New(nil)
	resp, err := devsignin.SignIn(ctx, &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second}, appURL, persona)
	if err != nil {
		return nil, err
	}
	body, err := readBody(resp)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != appURL {
		return nil, fmt.Errorf("sign-in: after choosing %q: %d at %s: %.300s", persona, resp.StatusCode, resp.Request.URL, body)
	}
	s := &session{appURL: appURL, signedIn: time.Now(), lastUsed: time.Now(), nextTel: id * 100000,
		form: devsignin.FormValues(body)}
	if s.form.Get("_csrf") == "" || s.form.Get("submission") == "" {
		return nil, fmt.Errorf("sign-in: the page has no profile form: %.500s", body)
	}
	s.client = &http.Client{Jar: jar, Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return s, nil
}

// get asks for the page with gzip, as a browser does. Setting Accept-Encoding here keeps Go's
// transport from unzipping: unzipping is the client's cost, not the server's.
func (s *session) get(ctx context.Context) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.appURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", s.appURL, err)
	}
	return resp, nil
}

// view loads the page and drops its bytes as they came.
func (s *session) view(ctx context.Context) error {
	resp, err := s.get(ctx)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || n == 0 {
		return fmt.Errorf("page view: %d (%d bytes) %s", resp.StatusCode, n, resp.Header.Get("Location"))
	}
	return nil
}

// reload loads the page and keeps its form, as a person opening the page before editing does.
func (s *session) reload(ctx context.Context) error {
	resp, err := s.get(ctx)
	if err != nil {
		return err
	}
	body, err := readBody(resp)
	if err != nil {
		return err
	}
	form := devsignin.FormValues(body)
	if resp.StatusCode != http.StatusOK || form.Get("submission") == "" {
		return fmt.Errorf("reload: %d: %.300s", resp.StatusCode, body)
	}
	s.form = form
	s.lastUsed = time.Now()
	return nil
}

// readBody reads and closes the body, unzipped when it came gzipped.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", resp.Request.Method, resp.Request.URL, err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", resp.Request.Method, resp.Request.URL, err)
	}
	return b, nil
}

// Outcomes of a save through the app.
const (
	outcomeSaved    = iota
	outcomeConflict // someone else saved since the form was loaded: a GET, no PUT
	outcomeNothing  // nothing to save: no PUT
)

// save changes the telephone and saves the form as htmx does, then keeps the form the answer
// holds (a new submission id, the new loaded values) for the next save.
func (s *session) save(ctx context.Context) (int, error) {
	s.nextTel++
	form := url.Values{}
	for k, v := range s.form {
		form[k] = v
	}
	form.Set("telephone", telephone(s.nextTel))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.appURL+"save", strings.NewReader(form.Encode()))
	for k, v := range map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept-Encoding": "gzip",
		"HX-Request": "true", "HX-Target": "profile", "HX-Current-URL": s.appURL, "X-CSRF-Token": s.form.Get("_csrf")} {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("save: %w", err)
	}
	body, err := readBody(resp)
	if err != nil {
		return 0, fmt.Errorf("save: %w", err)
	}
	out, err := saveOutcome(resp.StatusCode, body)
	if err != nil {
		return 0, err
	}
	return out, s.keepForm(body)
}

func saveOutcome(status int, body []byte) (int, error) {
	switch {
	case status == http.StatusOK && bytes.Contains(body, []byte("Saved.")):
		return outcomeSaved, nil
	case status == http.StatusConflict:
		return outcomeConflict, nil
	case status == http.StatusOK:
		return outcomeNothing, nil
	}
	return 0, fmt.Errorf("save: %d: %.300s", status, body)
}

// keepForm keeps the form of a save's answer (its fragment has no CSRF field: the page's stays).
func (s *session) keepForm(answer []byte) error {
	next := devsignin.FormValues(answer)
	if next.Get("submission") == "" || next.Get("loaded") == "" {
		return fmt.Errorf("save: the answer has no form to save again: %.300s", answer)
	}
	if next.Get("_csrf") == "" {
		next.Set("_csrf", s.form.Get("_csrf"))
	}
	s.form = next
	return nil
}

// telephone is a number that can be dialled (the app checks them with libphonenumber: a Paris
// number, +33 1 and eight digits), different for every n below 10^8 (sessions count from
// id*100000).
func telephone(n int) string {
	return fmt.Sprintf("+33 1 %02d %02d %02d %02d", (n/1_000_000)%100, (n/10_000)%100, (n/100)%100, n%100)
}
