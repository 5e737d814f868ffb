package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// css is large and repetitive enough that gzip shrinks it; tiny.txt is not.
var css = []byte(strings.Repeat("body{margin:0}.btn{padding:1rem}\n", 50))

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"app.css":        {Data: css},
		"htmx.min.js":    {Data: []byte(strings.Repeat("htmx=function(){};", 40))},
		"favicon.svg":    {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
		"tiny.txt":       {Data: []byte("x")},
		"sub/nested.css": {Data: []byte("a{}")},
	}
}

func mustAssets(t *testing.T, fsys fstest.MapFS) *Assets {
	t.Helper()
	a, err := newAssets(fsys)
	if err != nil {
		t.Fatalf("newAssets: %v", err)
	}
	return a
}

func TestPath(t *testing.T) {
	sum := sha256.Sum256(css)
	wantCSS := "app." + hex.EncodeToString(sum[:])[:10] + ".css"

	a := mustAssets(t, testFS())
	if got := a.Path("app.css"); got != wantCSS {
		t.Errorf(`Path("app.css") = %q, want %q`, got, wantCSS)
	}
	if got := a.Path("htmx.min.js"); !regexp.MustCompile(`^htmx\.min\.[0-9a-f]{10}\.js$`).MatchString(got) {
		t.Errorf(`Path("htmx.min.js") = %q, want htmx.min.<10 hex>.js`, got)
	}

	if again := mustAssets(t, testFS()).Path("app.css"); again != wantCSS {
		t.Errorf("Path is not stable: %q then %q", wantCSS, again)
	}

	changed := testFS()
	changed["app.css"] = &fstest.MapFile{Data: append(bytes.Clone(css), '\n')}
	if got := mustAssets(t, changed).Path("app.css"); got == wantCSS {
		t.Errorf("Path did not change with the content: still %q", got)
	}
	if got, want := mustAssets(t, changed).Path("favicon.svg"), a.Path("favicon.svg"); got != want {
		t.Errorf("Path of an unchanged file changed: %q, was %q", got, want)
	}
}

func TestPathPanicsOnUnknownName(t *testing.T) {
	a := mustAssets(t, testFS())
	for _, name := range []string{"app.min.css", "", "nested.css", "sub/nested.css"} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Path(%q) did not panic", name)
				}
			}()
			a.Path(name)
		})
	}
}

// The embedded files are the ones scripts/build-assets writes; New must find them all.
func TestNewEmbedsBuiltFiles(t *testing.T) {
	a := New()
	for _, name := range []string{"app.css", "htmx.min.js", "favicon.svg"} {
		p := a.Path(name)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+p, nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("GET %s: status %d, %d bytes", p, rec.Code, rec.Body.Len())
		}
	}
}

func TestServeHTTP(t *testing.T) {
	a := mustAssets(t, testFS())
	tests := []struct {
		name, path, contentType string
	}{
		{"css with slash", "/" + a.Path("app.css"), "text/css; charset=utf-8"},
		{"css without slash", a.Path("app.css"), "text/css; charset=utf-8"},
		{"js", "/" + a.Path("htmx.min.js"), "text/javascript; charset=utf-8"},
		{"svg", "/" + a.Path("favicon.svg"), "image/svg+xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path = tt.path
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, req)

			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			h := rec.Header()
			for k, want := range map[string]string{
				"Content-Type":           tt.contentType,
				"Cache-Control":          "public, max-age=31536000, immutable",
				"Vary":                   "Accept-Encoding",
				"X-Content-Type-Options": "nosniff",
				"Content-Encoding":       "",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !regexp.MustCompile(`^"[0-9a-f]{10}"$`).MatchString(h.Get("ETag")) {
				t.Errorf("ETag = %q, want a quoted 10-hex hash", h.Get("ETag"))
			}
		})
	}

	t.Run("body", func(t *testing.T) {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+a.Path("app.css"), nil))
		if !bytes.Equal(rec.Body.Bytes(), css) {
			t.Errorf("body differs from the file (%d bytes, want %d)", rec.Body.Len(), len(css))
		}
	})
}

func TestServeHTTPNotFound(t *testing.T) {
	a := mustAssets(t, testFS())
	hashed := a.Path("app.css")
	for _, path := range []string{
		"/app.0123456789.css", // stale hash
		"/app.css",            // unhashed name
		"/" + strings.ToUpper(hashed),
		"/" + hashed + "/",
		"/static/" + hashed, // prefix not stripped
		"/missing.0123456789.css",
		"/sub/nested.css",
		"/",
		"",
	} {
		t.Run(path, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path = path
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound {
				t.Errorf("status = %d, want 404", rec.Code)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
		})
	}
}

func TestServeHTTPGzip(t *testing.T) {
	a := mustAssets(t, testFS())
	tests := []struct {
		acceptEncoding string
		gzip           bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"x-gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"br", false},
		{"identity", false},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false},
		{"*;q=0, gzip", true},
	}
	for _, tt := range tests {
		t.Run(tt.acceptEncoding, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/"+a.Path("app.css"), nil)
			if tt.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tt.acceptEncoding)
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if got := rec.Header().Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding", got)
			}

			body := rec.Body.Bytes()
			if tt.gzip {
				if got := rec.Header().Get("Content-Encoding"); got != "gzip" {
					t.Fatalf("Content-Encoding = %q, want gzip", got)
				}
				if len(body) >= len(css) {
					t.Errorf("gzip body is %d bytes, not smaller than %d", len(body), len(css))
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("gzip.NewReader: %v", err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatalf("gunzip: %v", err)
				}
			} else if got := rec.Header().Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding = %q, want none", got)
			}
			if !bytes.Equal(body, css) {
				t.Errorf("decoded body differs from the file")
			}
		})
	}

	t.Run("encodings have different ETags", func(t *testing.T) {
		plain := httptest.NewRecorder()
		a.ServeHTTP(plain, httptest.NewRequest(http.MethodGet, "/"+a.Path("app.css"), nil))
		req := httptest.NewRequest(http.MethodGet, "/"+a.Path("app.css"), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		zipped := httptest.NewRecorder()
		a.ServeHTTP(zipped, req)
		if p, z := plain.Header().Get("ETag"), zipped.Header().Get("ETag"); p == z || z == "" {
			t.Errorf("ETags: identity %q, gzip %q; want two different ones", p, z)
		}
	})

	t.Run("not compressed when gzip would not shrink it", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/"+a.Path("tiny.txt"), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding"); got != "" {
			t.Errorf("Content-Encoding = %q, want none", got)
		}
		if rec.Body.String() != "x" {
			t.Errorf("body = %q, want %q", rec.Body.String(), "x")
		}
	})
}

func TestServeHTTPConditional(t *testing.T) {
	a := mustAssets(t, testFS())
	first := httptest.NewRecorder()
	a.ServeHTTP(first, httptest.NewRequest(http.MethodGet, "/"+a.Path("app.css"), nil))
	etag := first.Header().Get("ETag")

	req := httptest.NewRequest(http.MethodGet, "/"+a.Path("app.css"), nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("status = %d, want 304", rec.Code)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("304 has a body of %d bytes", rec.Body.Len())
	}
}

func TestServeHTTPHead(t *testing.T) {
	a := mustAssets(t, testFS())
	srv := httptest.NewServer(http.StripPrefix("/static", a))
	defer srv.Close()

	for _, encoding := range []string{"identity", "gzip"} {
		t.Run(encoding, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodHead, srv.URL+"/static/"+a.Path("app.css"), nil)
			if err != nil {
				t.Fatal(err)
			}
			// Set explicitly, so the client neither adds gzip itself nor decodes it.
			req.Header.Set("Accept-Encoding", encoding)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)

			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			if len(body) != 0 {
				t.Errorf("HEAD returned a body of %d bytes", len(body))
			}
			wantLen := int64(len(css))
			if encoding == "gzip" {
				wantLen = int64(len(a.byName["app.css"].gzipped))
			}
			if res.ContentLength != wantLen {
				t.Errorf("Content-Length = %d, want %d", res.ContentLength, wantLen)
			}
			if got := res.Header.Get("Cache-Control"); got != cacheForever {
				t.Errorf("Cache-Control = %q, want %q", got, cacheForever)
			}
			if got := res.Header.Get("Content-Type"); got != "text/css; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
		})
	}
}

func TestServeHTTPMethodNotAllowed(t *testing.T) {
	a := mustAssets(t, testFS())
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/"+a.Path("app.css"), nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("status = %d, want 405", rec.Code)
	}
	if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
	}
}

func TestServeHTTPRange(t *testing.T) {
	a := mustAssets(t, testFS())
	srv := httptest.NewServer(a)
	defer srv.Close()

	for _, encoding := range []string{"identity", "gzip"} {
		t.Run(encoding, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/"+a.Path("app.css"), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", encoding)
			req.Header.Set("Range", "bytes=0-3")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if res.StatusCode != http.StatusPartialContent || len(body) != 4 {
				t.Errorf("status %d with %d bytes, want 206 with 4", res.StatusCode, len(body))
			}
		})
	}
}
