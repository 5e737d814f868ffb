package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

// session is one person's browser: its own cookie jar, and the form as the page last showed it.
type session struct {
	id       int
	appURL   string
	client   *http.Client // does not follow redirects: a redirect under load is an error
	form     url.Values
	nextTel  int
	signedIn time.Time
	lastUsed time.Time
}

// newTransport is shared by the sessions of one target, with an idle connection for each.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
	}
}

// signIn goes through the real OpenID Connect dance, as a browser without JavaScript would: the
// app sends it to the dev provider, it picks the persona, the provider sends it back with a
// code, and the app shows the form.
func signIn(ctx context.Context, id int, appURL, persona string, tr http.RoundTripper) (*session, error) {
	jar, _ := cookiejar.New(nil)
	follow := &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second}
	resp, err := get(ctx, follow, appURL)
	if err != nil {
		return nil, err
	}
	doc, err := readHTML(resp)
	if err != nil {
		return nil, err
	}
	form := doc.Find("form").First()
	action, ok := form.Attr("action")
	if !ok || strings.HasPrefix(resp.Request.URL.String(), appURL) {
		return nil, fmt.Errorf("sign-in: expected the provider's sign-in page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	values := url.Values{"persona": {persona}}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		values.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	target, err := resp.Request.URL.Parse(action)
	if err != nil {
		return nil, err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = follow.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign-in: choose persona: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != appURL {
		return nil, fmt.Errorf("sign-in: after choosing %q: %d at %s: %.300s", persona, resp.StatusCode, resp.Request.URL, body)
	}
	s := &session{id: id, appURL: appURL, signedIn: time.Now(), nextTel: id * 100000}
	s.form = formInputs(body)
	if s.form.Get("_csrf") == "" || s.form.Get("submission") == "" {
		return nil, fmt.Errorf("sign-in: the page has no profile form: %.500s", body)
	}
	s.client = &http.Client{Jar: jar, Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.lastUsed = time.Now()
	return s, nil
}

func get(ctx context.Context, c *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return resp, nil
}

func readHTML(resp *http.Response) (*goquery.Document, error) {
	defer resp.Body.Close()
	return goquery.NewDocumentFromReader(resp.Body)
}

// formInputs reads the named inputs of the page or fragment, as a browser would submit the
// profile form: the three fields and the hidden _csrf, loaded and submission.
func formInputs(page []byte) url.Values {
	v := url.Values{}
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return v
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "input" || !hasAttr {
				continue
			}
			var n, val string
			for more := true; more; {
				var k, a []byte
				k, a, more = z.TagAttr()
				switch string(k) {
				case "name":
					n = string(a)
				case "value":
					val = string(a)
				}
			}
			if n != "" {
				v.Set(n, val)
			}
		}
	}
}

// viewApp loads the page through the app.
func (s *session) viewApp(ctx context.Context) error {
	resp, err := get(ctx, s.client, s.appURL)
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
	resp, err := get(ctx, s.client, s.appURL)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	form := formInputs(body)
	if resp.StatusCode != http.StatusOK || form.Get("submission") == "" {
		return fmt.Errorf("reload: %d: %.300s", resp.StatusCode, body)
	}
	s.form = form
	s.lastUsed = time.Now()
	return nil
}

// saveOutcome is what a save through the app came to.
type saveOutcome int

const (
	outcomeSaved    saveOutcome = iota
	outcomeConflict             // someone else saved since the form was loaded: a GET, no PUT
	outcomeNothing              // nothing to save: no PUT
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"saved", "conflict", "unchanged"}

// saveApp changes the telephone and saves the form as htmx does, then keeps the form the answer
// holds (a new submission id, the new loaded values) for the next save.
func (s *session) saveApp(ctx context.Context) (saveOutcome, error) {
	s.nextTel++
	form := url.Values{}
	for k, v := range s.form {
		form[k] = v
	}
	form.Set("telephone", telephone(s.nextTel))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.appURL+"save", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "profile")
	req.Header.Set("HX-Current-URL", s.appURL)
	req.Header.Set("X-CSRF-Token", s.form.Get("_csrf"))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("save: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("save: %w", err)
	}
	var out saveOutcome
	switch {
	case resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte("Saved.")):
		out = outcomeSaved
	case resp.StatusCode == http.StatusConflict:
		out = outcomeConflict
	case resp.StatusCode == http.StatusOK:
		out = outcomeNothing
	default:
		return 0, fmt.Errorf("save: %d: %.300s", resp.StatusCode, body)
	}
	next := formInputs(body)
	if next.Get("submission") == "" || next.Get("loaded") == "" {
		return 0, fmt.Errorf("save: the answer has no form to save again: %.300s", body)
	}
	if next.Get("_csrf") == "" {
		next.Set("_csrf", s.form.Get("_csrf"))
	}
	s.form = next
	return out, nil
}

// telephone is a valid number, different for every n below 10^10 (sessions count from id*100000).
func telephone(n int) string {
	return fmt.Sprintf("+1 %03d %03d %04d", (n/10_000_000)%1000, (n/10_000)%1000, n%10_000)
}

// bareClient calls the emulator through the bare proxy, which adds the token.
type bareClient struct {
	client  *http.Client
	url     string // the proxy's URL of the support profile
	nextTel int
}

func (b *bareClient) get(ctx context.Context) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bare GET: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("bare GET: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bare GET: %d: %.300s", resp.StatusCode, body)
	}
	return body, nil
}

// save is the floor of a save: GET the profile, change a member, PUT it back.
func (b *bareClient) save(ctx context.Context) error {
	body, err := b.get(ctx)
	if err != nil {
		return err
	}
	var p map[string]any
	if err := json.Unmarshal(bytes.TrimPrefix(body, []byte("\uFEFF")), &p); err != nil {
		return fmt.Errorf("bare GET: %w", err)
	}
	b.nextTel++
	p["telephone"] = telephone(b.nextTel)
	out, _ := json.Marshal(p)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, b.url, bytes.NewReader(out))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("bare PUT: %w", err)
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("bare PUT: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bare PUT: %d: %.300s", resp.StatusCode, rb)
	}
	return nil
}

// proxyOAuthToken does the authorization code dance with x/oauth2 against the dev provider, for
// the token the bare proxy sends.
func proxyOAuthToken(ctx context.Context, s *standIns) (*oauth2.Token, string, error) {
	provider, err := oidc.NewProvider(ctx, s.idpURL)
	if err != nil {
		return nil, "", fmt.Errorf("discover dev provider: %w", err)
	}
	oc := &oauth2.Config{ClientID: proxyClientID, ClientSecret: s.proxySecret, Endpoint: provider.Endpoint(),
		RedirectURL: proxyRedirect, Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, pcScope}}
	verifier := oauth2.GenerateVerifier()
	state := "bench"
	jar, _ := cookiejar.New(nil)
	var code string
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), proxyRedirect) {
			if r.URL.Query().Get("state") == state {
				code = r.URL.Query().Get("code")
			}
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := get(ctx, c, oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		return nil, "", err
	}
	doc, err := readHTML(resp)
	if err != nil {
		return nil, "", err
	}
	form := doc.Find("form").First()
	values := url.Values{"persona": {"admin"}}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		values.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	target, _ := resp.Request.URL.Parse(form.AttrOr("action", ""))
	resp, err = c.PostForm(target.String(), values)
	if err != nil {
		return nil, "", err
	}
	resp.Body.Close()
	if code == "" {
		return nil, "", errors.New("proxy token: the dev provider sent no code")
	}
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, "", fmt.Errorf("proxy token: %w", err)
	}
	return tok, provider.Endpoint().TokenURL, nil
}
