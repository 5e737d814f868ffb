// Package static embeds the built CSS, htmx and favicon and serves them under content-hashed names
// for cache busting.
//
// app.css and htmx.min.js are built by scripts/build-assets (npm run build) and committed, so a
// fresh clone builds with go build alone.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed app.css app.js htmx.min.js favicon.svg
var files embed.FS

// hashLen is how many hex characters of the SHA-256 of a file go into its served name.
const hashLen = 10

// cacheForever is sent with every asset: a name changes whenever its content does.
const cacheForever = "public, max-age=31536000, immutable"

// contentTypes overrides mime.TypeByExtension for the files served here, whose answer depends on
// the machine's MIME tables.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// Assets serves the embedded files under names that carry a hash of their content, e.g. app.3f9a1c2b7d.css.
type Assets struct {
	byName   map[string]*asset // "app.css"
	byHashed map[string]*asset // "app.3f9a1c2b7d.css"
}

type asset struct {
	hashedName  string
	contentType string
	body        []byte
	etag        string
	gzipped     []byte // nil when gzip would not make the file smaller
	gzipETag    string
}

// New returns the Assets for the embedded files, hashing and compressing each once.
func New() *Assets {
	a, err := newAssets(files)
	if err != nil {
		// The files are compiled in: this fails on every start or never.
		panic(fmt.Sprintf("static: %v", err))
	}
	return a
}

// newAssets serves every regular file at the root of fsys.
func newAssets(fsys fs.FS) (*Assets, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read assets: %w", err)
	}
	a := &Assets{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read asset %s: %w", name, err)
		}
		as, err := newAsset(name, body)
		if err != nil {
			return nil, err
		}
		a.byName[name] = as
		a.byHashed[as.hashedName] = as
	}
	return a, nil
}

func newAsset(name string, body []byte) (*asset, error) {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])[:hashLen]
	ext := path.Ext(name)

	ctype, ok := contentTypes[ext]
	if !ok {
		ctype = mime.TypeByExtension(ext)
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}

	as := &asset{
		hashedName:  strings.TrimSuffix(name, ext) + "." + hash + ext,
		contentType: ctype,
		body:        body,
		etag:        `"` + hash + `"`,
	}

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip asset %s: %w", name, err)
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip asset %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip asset %s: %w", name, err)
	}
	if buf.Len() < len(body) {
		as.gzipped = buf.Bytes()
		// Each encoding is its own representation, so it needs its own strong ETag.
		as.gzipETag = `"` + hash + `-gzip"`
	}
	return as, nil
}

// Path returns the content-hashed name of a file, e.g. "app.css" -> "app.3f9a1c2b7d.css", relative to
// wherever Assets is mounted. It panics on a name that is not embedded, so a typo fails in tests.
func (a *Assets) Path(name string) string {
	as, ok := a.byName[name]
	if !ok {
		panic(fmt.Sprintf("static: no asset named %q", name))
	}
	return as.hashedName
}

// ServeHTTP serves the file whose hashed name is r.URL.Path, with the mount prefix already stripped
// (http.StripPrefix). Unknown names and stale hashes are 404.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	as, ok := a.byHashed[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		// A page from a newer deploy may ask an older instance for a hash it does not have yet;
		// that 404 must not be remembered.
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}

	h := w.Header()
	h.Set("Content-Type", as.contentType)
	h.Set("Cache-Control", cacheForever)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")

	body, etag := as.body, as.etag
	if as.gzipped != nil && acceptsGzip(r.Header.Values("Accept-Encoding")) {
		body, etag = as.gzipped, as.gzipETag
		h.Set("Content-Encoding", "gzip")
		// ServeContent leaves out Content-Length once an encoding is set, which a HEAD would then
		// lack; the length is known unless a Range picks part of the body.
		if r.Header.Get("Range") == "" {
			h.Set("Content-Length", strconv.Itoa(len(body)))
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers HEAD, If-None-Match (304) and Range; a zero time sends no Last-Modified.
	http.ServeContent(w, r, as.hashedName, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether Accept-Encoding values allow gzip: named with a q above zero, or
// covered by "*" when not named at all.
func acceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "*":
				starQ = max(starQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
