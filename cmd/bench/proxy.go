package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/oauth2"
)

const proxyStatsPath = "/_bench/stats"

type proxyStats struct {
	Refreshes int `json:"refreshes"`
}

// runProxyChild is the floor: a bare httputil.ReverseProxy in front of the emulator that adds
// the bearer token, as anything calling Partner Center must. Its transport keeps enough idle
// connections for every concurrent session, so the floor is the best a proxy can do.
func runProxyChild(addr string, in io.Reader) error {
	var cfg proxyToken
	if err := json.NewDecoder(in).Decode(&cfg); err != nil {
		return fmt.Errorf("proxy: read configuration: %w", err)
	}
	upstream, err := url.Parse(cfg.Upstream)
	if err != nil {
		return err
	}
	oc := &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenURL}}
	ts := &countingTokenSource{src: oc.TokenSource(context.Background(), cfg.Token), last: cfg.Token.AccessToken}

	rp := &httputil.ReverseProxy{
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+proxyStatsPath, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(proxyStats{Refreshes: ts.refreshes()})
	})
	mux.Handle("/", rp)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
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
