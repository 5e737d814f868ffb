package floor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"pcsupport/cmd/bench/internal/proc"
)

// Proxy is the proxy running as a child process.
type Proxy struct {
	*proc.Child
	URL string
}

// Start starts this binary again as the proxy (its main must hand ChildArg to Serve) on a free
// loopback port, and waits until it answers.
func Start(cfg Config) (*Proxy, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	// The token goes on stdin: it stays out of argv and the environment.
	child, err := proc.Start(proc.Spec{Path: self, Args: []string{ChildArg, addr}, Stdin: bytes.NewReader(b)})
	if err != nil {
		return nil, fmt.Errorf("start proxy: %w", err)
	}
	p := &Proxy{Child: child, URL: "http://" + addr}
	client := &http.Client{Timeout: time.Second}
	err = child.WaitReady(func() bool {
		resp, err := client.Get(p.URL + statsPath)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 2*time.Millisecond, 10*time.Second)
	if err != nil {
		child.Stop(time.Second)
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return p, nil
}

// Refreshes is how many times the proxy renewed its token.
func (p *Proxy) Refreshes() (int, error) {
	resp, err := http.Get(p.URL + statsPath)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("proxy stats: %w", err)
	}
	return st.Refreshes, nil
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen on loopback: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
