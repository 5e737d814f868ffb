package pageweight

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestImmutable(t *testing.T) {
	for cc, want := range map[string]bool{
		"public, max-age=31536000, immutable": true,
		"max-age=31536000":                    false,
		"public, max-age=3600, immutable":     false,
		"no-store":                            false,
	} {
		if got := Immutable(cc); got != want {
			t.Errorf("Immutable(%q) = %v", cc, got)
		}
	}
}

// A page with one immutable gzipped asset and one that must be asked for again: bytes on the
// wire and decoded, and the second asset named among those a repeat load fetches.
func TestMeasure(t *testing.T) {
	css := strings.Repeat("body{color:red}", 100)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(css))
	zw.Close()
	page := `<html><head><link rel="stylesheet" href="/app.css"><script src="/app.js"></script></head></html>`
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/app.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz.Bytes())
	})
	mux.HandleFunc("/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "let x = 1")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	w, err := Measure(context.Background(), nil, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.First) != 3 || w.FirstWire != len(page)+gz.Len()+9 || w.FirstRaw != len(page)+len(css)+9 {
		t.Errorf("first load: %d responses, %d B on the wire, %d B decoded", len(w.First), w.FirstWire, w.FirstRaw)
	}
	if len(w.Refetched) != 1 || !strings.Contains(w.Refetched[0], "/app.js") {
		t.Errorf("fetched again: %q; want /app.js alone", w.Refetched)
	}
}
