package floor

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"pcsupport/internal/devidp"
	"pcsupport/internal/devstack"
)

// The proxy adds the token it was handed: a view and a save through it reach the emulator as
// the dev admin, and the token, an hour long, is not renewed.
func TestProxyAddsTheToken(t *testing.T) {
	const id, redirect = "proxy", "http://127.0.0.1:9/proxy/callback"
	stack, err := devstack.Start(devstack.Options{Clients: []devstack.Client{{ID: id, RedirectURIs: []string{redirect}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	ctx := context.Background()
	cfg, err := SignIn(ctx, Registration{ProviderURL: stack.ProviderURL, ClientID: id, Secret: stack.Secret(id), Redirect: redirect,
		Scope: "https://api.partnercenter.microsoft.com/user_impersonation"}, "admin", stack.EmulatorURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cfg)
	addr, _ := freeLoopbackAddr()
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- Serve(serveCtx, addr, bytes.NewReader(b)) }()
	defer func() { stop(); <-served }()
	p := &Proxy{URL: "http://" + addr}
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if _, err := p.Refreshes(); err == nil {
			break
		} else if time.Since(start) > 5*time.Second {
			t.Fatal(err)
		}
	}

	c := NewClient(http.DefaultTransport, p.URL)
	if err := c.View(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx, "+1 425 555 0142"); err != nil {
		t.Fatal(err)
	}
	if _, tel, _ := stack.Emulator.Profile(devidp.TenantID); tel != "+1 425 555 0142" {
		t.Errorf("the emulator holds %q after the save through the proxy", tel)
	}
	if st := stack.Emulator.Stats(); st.Gets != 2 || st.Puts != 1 || st.Refused != 0 {
		t.Errorf("the emulator counted %+v, want 2 GETs and 1 PUT", st)
	}
	if n, err := p.Refreshes(); n != 0 || err != nil {
		t.Errorf("refreshes %d, %v", n, err)
	}
}
