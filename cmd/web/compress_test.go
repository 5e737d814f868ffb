package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestCompressResponses(t *testing.T) {
	big := strings.Repeat("<p>Support contact details</p>\n", 100)
	tests := []struct {
		name        string
		accept      string
		handler     echo.HandlerFunc
		wantGzip    bool
		wantStatus  int
		wantBody    string // decoded
		wantHeaders map[string]string
	}{
		{name: "large HTML is gzipped", accept: "gzip, deflate, br", wantGzip: true, wantStatus: 200, wantBody: big,
			handler: func(c echo.Context) error { return c.HTML(http.StatusOK, big) }},
		{name: "the status chosen by the handler is kept", accept: "gzip", wantGzip: true, wantStatus: 422, wantBody: big,
			handler: func(c echo.Context) error { return c.HTML(http.StatusUnprocessableEntity, big) }},
		{name: "small bodies stay plain", accept: "gzip", wantStatus: 200, wantBody: "<p>ok</p>",
			handler: func(c echo.Context) error { return c.HTML(http.StatusOK, "<p>ok</p>") }},
		{name: "no gzip without Accept-Encoding", accept: "", wantStatus: 200, wantBody: big,
			handler: func(c echo.Context) error { return c.HTML(http.StatusOK, big) }},
		{name: "gzip;q=0 refuses gzip", accept: "br, gzip;q=0", wantStatus: 200, wantBody: big,
			handler: func(c echo.Context) error { return c.HTML(http.StatusOK, big) }},
		{name: "an answer already encoded is not compressed again", accept: "gzip", wantStatus: 200, wantBody: big,
			wantHeaders: map[string]string{"Content-Encoding": "identity-test"},
			handler: func(c echo.Context) error {
				c.Response().Header().Set("Content-Encoding", "identity-test")
				return c.HTML(http.StatusOK, big)
			}},
		{name: "images and other binary types stay plain", accept: "gzip", wantStatus: 200, wantBody: big,
			handler: func(c echo.Context) error { return c.Blob(http.StatusOK, "image/png", []byte(big)) }},
		{name: "a redirect without a body", accept: "gzip", wantStatus: 303, wantHeaders: map[string]string{"Location": "/x"},
			handler: func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/x") }},
		{name: "an error is answered by the error handler", accept: "gzip", wantStatus: 418,
			handler: func(c echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "no") }},
		{name: "a streamed answer passes through", accept: "gzip", wantStatus: 200, wantBody: big + big,
			handler: func(c echo.Context) error {
				c.Response().Header().Set("Content-Type", "text/plain")
				c.Response().WriteHeader(http.StatusOK)
				_, _ = c.Response().Write([]byte(big))
				c.Response().Flush()
				_, err := c.Response().Write([]byte(big))
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			e.Use(compressResponses(func(c echo.Context) bool { return false }))
			e.GET("/", tt.handler)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			gz := rec.Header().Get("Content-Encoding") == "gzip"
			if gz != tt.wantGzip {
				t.Errorf("Content-Encoding %q, want gzip: %v", rec.Header().Get("Content-Encoding"), tt.wantGzip)
			}
			body := rec.Body.Bytes()
			if gz {
				body = gunzip(t, body)
				if cl := rec.Header().Get("Content-Length"); cl != "" {
					t.Errorf("gzipped answer keeps Content-Length %s", cl)
				}
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body %d bytes, want %d", len(body), len(tt.wantBody))
			}
			if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q, want Accept-Encoding", rec.Header().Get("Vary"))
			}
			for k, v := range tt.wantHeaders {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCompressResponsesSkip(t *testing.T) {
	e := echo.New()
	e.Use(compressResponses(func(c echo.Context) bool { return c.Path() == "/static/*" }))
	e.GET("/static/*", func(c echo.Context) error { return c.HTML(http.StatusOK, strings.Repeat("x", 4096)) })
	req := httptest.NewRequest(http.MethodGet, "/static/app.css", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if enc := rec.Header().Get("Content-Encoding"); enc != "" || rec.Body.Len() != 4096 {
		t.Errorf("skipped route: Content-Encoding %q, %d bytes", enc, rec.Body.Len())
	}
}

func TestAcceptsGzip(t *testing.T) {
	for accept, want := range map[string]bool{
		"gzip": true, "gzip, deflate, br, zstd": true, "br;q=1.0, gzip;q=0.8": true, "GZIP": true,
		"": false, "br": false, "gzip;q=0": false, "gzip; q=0.0": false, "x-gzip": false,
	} {
		if got := acceptsGzip(accept); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", accept, got, want)
		}
	}
}
