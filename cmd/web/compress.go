package main

import (
	"bytes"
	"compress/gzip"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// compressMinLength is the smallest body worth gzipping: below it the gzip framing and the CPU
// cost more than the bytes saved.
const compressMinLength = 1024

// gzipWriters are shared by all requests. A compress/flate writer is about 1 MB whatever the
// level, so it is taken only for the microseconds of compressing a finished body: the pool then
// holds about as many as there are CPUs. (Echo's Gzip middleware holds one for the whole request,
// the Partner Center call included: 200 sessions waiting on a slow upstream held 200 of them.)
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a 4 KB page: under 2 KB, at half the CPU of the default level
	return w
}}

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// compressResponses gzips pages, fragments and other text answers for clients that accept gzip.
// Handlers here write whole bodies (rendered into a buffer first), so the body is kept until the
// handler returns and compressed in one go. A response that already has a Content-Encoding (the
// metrics handler compresses its own) is passed on as it is; skip leaves a route alone entirely
// (static assets carry gzip made once at start).
func compressResponses(skip func(echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if skip(c) {
				return next(c)
			}
			res := c.Response()
			res.Header().Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
			if !acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
				return next(c)
			}
			bw := &bufferedWriter{ResponseWriter: res.Writer, buf: bodyBuffers.Get().(*bytes.Buffer)}
			bw.buf.Reset()
			res.Writer = bw
			err := next(c)
			res.Writer = bw.ResponseWriter
			bw.finish()
			bodyBuffers.Put(bw.buf)
			return err
		}
	}
}

// bufferedWriter holds the status and body until the handler is done. Flush (streaming) ends the
// buffering: what is held goes out as it is, and the rest passes straight through.
type bufferedWriter struct {
	http.ResponseWriter
	buf         *bytes.Buffer
	status      int
	passThrough bool
}

func (w *bufferedWriter) WriteHeader(code int) {
	if w.passThrough {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	if w.passThrough {
		return w.ResponseWriter.Write(b)
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(b)
}

func (w *bufferedWriter) Flush() {
	w.sendPlain()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *bufferedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sendPlain sends what is held without compressing it and stops holding.
func (w *bufferedWriter) sendPlain() {
	if w.passThrough {
		return
	}
	w.passThrough = true
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
	if w.buf.Len() > 0 {
		_, _ = w.ResponseWriter.Write(w.buf.Bytes())
	}
}

// finish sends the held response, gzipped when that is worth it.
func (w *bufferedWriter) finish() {
	if w.passThrough || w.status == 0 { // streamed, or nothing written: the error handler answers
		return
	}
	h := w.Header()
	if w.buf.Len() < compressMinLength || h.Get(echo.HeaderContentEncoding) != "" || !compressible(h.Get(echo.HeaderContentType)) ||
		w.status == http.StatusNoContent || w.status == http.StatusNotModified || w.status < http.StatusOK {
		w.sendPlain()
		return
	}
	w.passThrough = true
	h.Del(echo.HeaderContentLength)
	h.Set(echo.HeaderContentEncoding, "gzip")
	w.ResponseWriter.WriteHeader(w.status)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(w.ResponseWriter)
	_, _ = zw.Write(w.buf.Bytes())
	_ = zw.Close()
	zw.Reset(nil) // drop the reference to this response
	gzipWriters.Put(zw)
}

// acceptsGzip reads Accept-Encoding: gzip is accepted unless absent or given q=0.
func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

func compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || mt == "application/javascript" ||
		mt == "image/svg+xml" || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}
