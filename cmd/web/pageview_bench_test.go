package main

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// The whole app in-process (--dev: the stand-ins share the process), for CPU and allocation
// profiles of a page view and a save. cmd/bench measures the app as it runs; these say where
// its time goes:
//
//	go test ./cmd/web -run '^$' -bench PageView -cpuprofile cpu.out && go tool pprof -top -cum cpu.out

func BenchmarkPageView(b *testing.B) {
	app := startApp(b, "--log-level", "info")
	br := newBrowser(b)
	br.signIn(app, "admin")
	b.ReportAllocs()
	for b.Loop() {
		resp, err := br.client.Get(app.url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("page view: %d", resp.StatusCode)
		}
	}
}

func BenchmarkSave(b *testing.B) {
	app := startApp(b, "--log-level", "info")
	br := newBrowser(b)
	doc := br.signIn(app, "admin")
	form := formValues(doc)
	csrf := form.Get("_csrf")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		form.Set("telephone", fmt.Sprintf("+1 425 555 %04d", n%10000))
		resp, fragment := br.post(app.url+"save", form, "HX-Request", "true", "X-CSRF-Token", csrf)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("save: %d: %s", resp.StatusCode, html(fragment))
		}
		next := formValues(fragment)
		next.Set("_csrf", csrf)
		form = next
	}
}
