// Package devsignin signs in through the development provider's page as a browser without
// JavaScript does, and reads the forms of the pages it gets back.
package devsignin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// SignIn opens start with c, which keeps cookies and follows redirects as its caller built it,
// expects to land on the provider's sign-in page, and chooses persona there (its Key). It
// returns the answer to that choice as c followed it; the caller reads and closes its body.
func SignIn(ctx context.Context, c *http.Client, start, persona string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign-in: GET %s: %w", start, err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("sign-in: read %s: %w", resp.Request.URL, err)
	}
	action := formAction(page)
	if action == "" {
		return nil, fmt.Errorf("sign-in: expected the provider's sign-in page, got %d at %s: %.300s", resp.StatusCode, resp.Request.URL, page)
	}
	target, err := resp.Request.URL.Parse(action)
	if err != nil {
		return nil, fmt.Errorf("sign-in: form action %q: %w", action, err)
	}
	values := FormValues(page)
	values.Set("persona", persona)
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign-in: choose %q: %w", persona, err)
	}
	return resp, nil
}

// FormValues reads the named inputs of a page or fragment as a browser submits them (a later
// input of the same name wins): on the app's page, the profile's three fields and the hidden
// _csrf, loaded and submission.
func FormValues(page []byte) url.Values {
	v := url.Values{}
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return v
		case html.StartTagToken, html.SelfClosingTagToken:
			if name, attrs := tag(z); name == "input" && attrs["name"] != "" {
				v.Set(attrs["name"], attrs["value"])
			}
		}
	}
}

// formAction is the action of the page's first form, "" when it has none.
func formAction(page []byte) string {
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken:
			if name, attrs := tag(z); name == "form" {
				return attrs["action"]
			}
		}
	}
}

// tag is the current tag's name and its attributes.
func tag(z *html.Tokenizer) (string, map[string]string) {
	name, more := z.TagName()
	attrs := map[string]string{}
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		attrs[string(k)] = string(v)
	}
	return string(name), attrs
}
