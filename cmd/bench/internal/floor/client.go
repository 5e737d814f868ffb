package floor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client calls the emulator's support profile through the proxy, which adds the token.
type Client struct {
	http *http.Client
	url  string
}

// NewClient calls through the proxy at proxyURL.
func NewClient(tr http.RoundTripper, proxyURL string) *Client {
	return &Client{http: &http.Client{Transport: tr, Timeout: 60 * time.Second}, url: proxyURL + "/v1/profiles/support"}
}

// View is the floor of a page view: one GET, the body read and dropped as it came. It asks
// for gzip as a browser does (the emulator answers plain JSON).
func (c *Client) View(ctx context.Context) error {
	_, err := c.get(ctx, true)
	return err
}

// Save is the floor of a save: GET the profile, set the telephone, PUT it back.
func (c *Client) Save(ctx context.Context, telephone string) error {
	body, err := c.get(ctx, false)
	if err != nil {
		return err
	}
	var p map[string]any
	if err := json.Unmarshal(bytes.TrimPrefix(body, []byte("\uFEFF")), &p); err != nil {
		return fmt.Errorf("bare GET: %w", err)
	}
	p["telephone"] = telephone
	out, _ := json.Marshal(p)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, c.url, bytes.NewReader(out))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	_, err = c.do(req, false)
	return err
}

func (c *Client) get(ctx context.Context, discard bool) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	req.Header.Set("Accept", "application/json")
	if discard {
		req.Header.Set("Accept-Encoding", "gzip") // set here, Go's transport leaves the body as it came
	}
	return c.do(req, discard)
}

func (c *Client) do(req *http.Request, discard bool) ([]byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bare %s: %w", req.Method, err)
	}
	defer resp.Body.Close()
	var body []byte
	if discard {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		body, err = io.ReadAll(resp.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("bare %s: %w", req.Method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bare %s: %d: %.300s", req.Method, resp.StatusCode, body)
	}
	return body, nil
}
