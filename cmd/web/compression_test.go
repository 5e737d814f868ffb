package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"pcsupport/static"
)

// gzipGet asks as a browser does and returns the body as it came over the wire, undecoded.
func gzipGet(t *testing.T, b *browser, u string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd") // set by hand: Go then leaves the body encoded
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip: %v", err)
	}
	return out
}

// The page is gzipped on the fly; static assets are served with their own gzip, made once, and
// are not compressed a second time.
func TestCompressionOfPagesAndAssets(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	b := newBrowser(t)
	b.signIn(app, "admin")

	resp, body := gzipGet(t, b, app.url)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("page: %d, Content-Encoding %q, want 200 gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("page Vary = %q, want Accept-Encoding in it", resp.Header.Get("Vary"))
	}
	if page := gunzip(t, body); !bytes.Contains(page, []byte(`name="telephone"`)) {
		t.Errorf("decoded page has no form:\n%s", page)
	}

	assets := static.New()
	for _, name := range []string{"app.css", "htmx.min.js"} {
		resp, body := gzipGet(t, b, app.url+"static/"+assets.Path(name))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: %d, Content-Encoding %q, want 200 gzip", name, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		want, err := os.ReadFile("../../static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if got := gunzip(t, body); !bytes.Equal(got, want) {
			t.Errorf("%s: one gunzip gives %d bytes, want the file's %d (compressed twice?)", name, len(got), len(want))
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want immutable", name, cc)
		}
	}

	// The metrics handler compresses its own answer: it must not be compressed a second time.
	if resp, body := gzipGet(t, b, app.url+"metrics"); resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Encoding") == "gzip" {
		if got := gunzip(t, body); !bytes.Contains(got, []byte("# HELP")) {
			t.Errorf("metrics: one gunzip does not give the exposition text (compressed twice?): %.100q", got)
		}
	}

	// Without Accept-Encoding the page comes plain.
	req, _ := http.NewRequest(http.MethodGet, app.url, nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if enc := resp.Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("page without gzip accepted: Content-Encoding %q", enc)
	}
}
