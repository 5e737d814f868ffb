// Package floor is what the app is measured against: a bare reverse proxy in front of the
// Partner Center emulator that adds the bearer token, as anything calling Partner Center must,
// running as a process of its own (the bench binary started again) so that its CPU time is its
// own; and the client that calls through it.
package floor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ChildArg is the first argument with which the bench binary runs as the proxy (Serve).
const ChildArg = "--proxy-child"

const statsPath = "/_bench/stats"

// Config is handed to the proxy on its stdin: the upstream, a token from the dev provider and
// what it needs to refresh it.
type Config struct {
	Upstream     string        `json:"upstream"`
	TokenURL     string        `json:"tokenURL"`
	ClientID     string        `json:"clientID"`
	ClientSecret string        `json:"clientSecret"`
	Token        *oauth2.Token `json:"token"`
}

type stats struct {
	Refreshes int `json:"refreshes"`
}

// Serve runs the proxy on addr until ctx ends; its Config comes from in. The transport keeps an
// idle connection for every concurrent session, so the floor is the best a proxy can do.
func Serve(ctx context.Context, addr string, in io.Reader) error {
	var cfg Config
	if err := json.NewDecoder(in).Decode(&cfg); err != nil {
		return fmt.Errorf("proxy: read configuration: %w", err)
	}
	upstream, err := url.Parse(cfg.Upstream)
	if err != nil {
		return fmt.Errorf("proxy: upstream: %w", err)
	}
	oc := &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenURL}}
	ts := &countingTokenSource{src: oc.TokenSource(context.Background(), cfg.Token), last: cfg.Token.AccessToken}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+statsPath, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(stats{Refreshes: ts.refreshes()})
	})
	mux.Handle("/", reverseProxy(upstream, ts))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func reverseProxy(upstream *url.URL, ts oauth2.TokenSource) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			if tok, err := ts.Token(); err == nil {
				r.Out.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			}
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

// countingTokenSource counts the refreshes of the token it passes on.
type countingTokenSource struct {
	src  oauth2.TokenSource
	mu   sync.Mutex
	last string
	n    int
}

func (c *countingTokenSource) Token() (*oauth2.Token, error) {
	t, err := c.src.Token()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if t.AccessToken != c.last {
		c.last = t.AccessToken
		c.n++
	}
	c.mu.Unlock()
	return t, nil
}

func (c *countingTokenSource) refreshes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
