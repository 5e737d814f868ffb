// Package middleware holds what every request passes through on its way to the handlers:
// compression, trust in forwarded headers, the restored path prefix, and the request log with
// its metrics. cmd/web puts them together; none of them knows a handler.
package middleware

import (
	"mime"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
)

// compressMinSize is the smallest body worth gzipping: below it the gzip framing and the CPU
// cost more than the bytes saved.
const compressMinSize = 1024

// Compress gzips pages, fragments and other text answers for clients that accept gzip.
//
// It is klauspost's gzhttp: it takes a pooled writer only once a body reaches compressMinSize,
// for the moment of compressing, where Echo's Gzip middleware holds a large writer through the
// whole request, Partner Center's call included; stateless compression keeps no window between
// writes, and runs on goroutines of its own (offStackGzip). BENCHMARKS.md has the measurements.
// Answers that already carry a Content-Encoding (static assets gzipped once at start, /metrics)
// pass through as they are.
// zstd is left off: browsers accept gzip, and one encoder family keeps memory predictable.
func Compress(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinSize),
		gzhttp.Implementation(offStackGzipFactory),
		gzhttp.CompressionLevel(gzip.StatelessCompression),
		gzhttp.EnableZstd(false),
		gzhttp.ContentTypeFilter(compressible),
	)
	if err != nil {
		panic(err) // the options are constants: an error is a programming mistake
	}
	return wrap(next)
}

// compressible lists the types worth compressing: text. Images and fonts come compressed.
func compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || mt == "application/javascript" ||
		mt == "image/svg+xml" || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}
