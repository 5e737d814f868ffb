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
// It is klauspost's gzhttp, a maintained compressor: its gzip is about twice as fast as the
// standard library's on a 5 KB page, and it takes a pooled writer only once the body reaches
// compressMinSize, which with handlers that render into a buffer and write once means for the
// microseconds of compressing. (Echo's Gzip middleware holds a writer of about 1 MB for the whole
// request, the Partner Center call included: 200 sessions waiting on a slow upstream held 200 of
// them.) Stateless compression keeps no window between writes, so a writer costs kilobytes, not a
// megabyte, for the same size on a page written in one go; it runs on goroutines of its own
// (offStackGzip), so that no connection's goroutine keeps the stack it needs. Answers that
// already carry a Content-Encoding (static assets gzipped once at start, /metrics) pass through
// as they are.
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
