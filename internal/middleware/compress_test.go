package middleware

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCompress(t *testing.T) {
	big := strings.Repeat("<p>Support contact details</p>\n", 100)
	long := strings.Repeat("2026-11-30T10:42:00Z,Ada Admin,ada@contoso.example,telephone,+1 425 555 0100\n", 4000) // 300 KB
	html := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	tests := []struct {
		name        string
		accept      string
		handler     http.HandlerFunc
		wantGzip    bool
		wantStatus  int
		wantBody    string // decoded
		wantHeaders map[string]string
	}{
		{name: "large HTML is gzipped", accept: "gzip, deflate, br, zstd", wantGzip: true, wantStatus: 200, wantBody: big, handler: html(200, big)},
		{name: "the status chosen by the handler is kept", accept: "gzip", wantGzip: true, wantStatus: 422, wantBody: big, handler: html(422, big)},
		{name: "small bodies stay plain", accept: "gzip", wantStatus: 200, wantBody: "<p>ok</p>", handler: html(200, "<p>ok</p>")},
		{name: "no gzip without Accept-Encoding", accept: "", wantStatus: 200, wantBody: big, handler: html(200, big)},
		{name: "gzip;q=0 refuses gzip", accept: "br, gzip;q=0", wantStatus: 200, wantBody: big, handler: html(200, big)},
		{name: "an answer already encoded is not compressed again", accept: "gzip", wantStatus: 200, wantBody: big,
			wantHeaders: map[string]string{"Content-Encoding": "identity-test"},
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "identity-test")
				html(200, big)(w, r)
			}},
		{name: "images and other compressed types stay plain", accept: "gzip", wantStatus: 200, wantBody: big,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				io.WriteString(w, big)
			}},
		{name: "a malformed Content-Type stays plain", accept: "gzip", wantStatus: 200, wantBody: big,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset")
				io.WriteString(w, big)
			}},
		{name: "a redirect without a body", accept: "gzip", wantStatus: 303, wantHeaders: map[string]string{"Location": "/x"},
			handler: func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/x", http.StatusSeeOther) }},
		{name: "a long answer written at once arrives whole", accept: "gzip", wantGzip: true, wantStatus: 200, wantBody: long,
			handler: html(200, long)},
		{name: "a long answer written in pieces arrives whole", accept: "gzip", wantGzip: true, wantStatus: 200, wantBody: long,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/csv")
				for line := range strings.Lines(long) {
					io.WriteString(w, line)
				}
			}},
		{name: "a streamed answer arrives whole", accept: "gzip", wantGzip: true, wantStatus: 200, wantBody: big + big,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, big)
				w.(http.Flusher).Flush()
				io.WriteString(w, big)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			rec := httptest.NewRecorder()
			Compress(tt.handler).ServeHTTP(rec, req)
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

// A page compresses to well under half: stateless compression of a body written at once costs
// little in size.
func TestCompressRatioOfAPage(t *testing.T) {
	page := strings.Repeat(`<div class="rounded-lg border p-4"><label for="email" class="block font-semibold">Support email</label>`+
		`<input id="email" name="email" type="email" value="support@contoso.example" class="mt-1 block w-full"></div>`, 25)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	Compress(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page)
	})).ServeHTTP(rec, req)
	if rec.Body.Len()*4 > len(page) {
		t.Errorf("a %d-byte page compressed to %d bytes", len(page), rec.Body.Len())
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A connection's goroutine that answered with a compressed page keeps no large stack: each held
// 32 KB more after one page, because stateless deflate puts its 32 KB table on the stack of
// whoever compresses.
func TestCompressingLeavesConnectionStacksSmall(t *testing.T) {
	page, handler := pageHandler()
	serve := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, gzipRequest())
		return rec
	}
	// Whatever compression starts once is started before the count.
	if rec := serve(); rec.Header().Get("Content-Encoding") != "gzip" || string(gunzip(t, rec.Body.Bytes())) != page {
		t.Fatal("the page did not arrive gzipped and whole")
	}

	// No collection during the count: it would shrink idle goroutines' stacks, which then grow
	// again, copied, on their next request.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	before := stackInUse()
	const connections = 200
	var served, hold sync.WaitGroup
	hold.Add(1)
	for range connections {
		served.Add(1)
		go func() { // as a kept-alive connection's goroutine: a page, then waiting for the next request
			serve()
			served.Done()
			hold.Wait()
		}()
	}
	served.Wait()
	grown := stackInUse() - before
	hold.Done()
	if perConnection := grown / connections; perConnection > 16<<10 { // 4 KB here, 8 KB under -race; 32 KB when each compressed on its own stack
		t.Errorf("each connection's goroutine holds %d KB of stack after a compressed page, want at most 16 KB", perConnection>>10)
	}
}

func stackInUse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.StackInuse)
}

// A client that reads slowly holds up its own answer only: compression never waits on the
// network, so a few slow readers cannot stall every other compressed answer.
func TestASlowReaderHoldsUpNoOtherAnswer(t *testing.T) {
	page, handler := pageHandler()
	release := make(chan struct{})
	defer close(release)
	for range 2*runtime.GOMAXPROCS(0) + 8 { // more slow readers than there are goroutines to compress
		go handler.ServeHTTP(&stalledWriter{ResponseRecorder: httptest.NewRecorder(), release: release}, gzipRequest())
	}
	time.Sleep(100 * time.Millisecond) // the slow ones are all writing by now

	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, gzipRequest())
		done <- rec
	}()
	select {
	case rec := <-done:
		if rec.Header().Get("Content-Encoding") != "gzip" || string(gunzip(t, rec.Body.Bytes())) != page {
			t.Error("the page did not arrive gzipped and whole")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an answer to a quick client waited for the slow readers")
	}
}

// A long answer to a client that went away stops at the next piece: the handler's writes fail,
// and nothing more is compressed for nobody.
func TestALongAnswerToAClientGoneFails(t *testing.T) {
	piece := strings.Repeat("2026-11-30T10:42:00Z,Ada Admin,ada@contoso.example,telephone,+1 425 555 0100\n", 1000) // 77 KB
	var failed error
	written := 0
	handler := Compress(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		for range 20 {
			if _, err := io.WriteString(w, piece); err != nil {
				failed = err
				return
			}
			written++
		}
	}))
	handler.ServeHTTP(&goneClient{ResponseRecorder: httptest.NewRecorder()}, gzipRequest())
	if failed == nil || written > 1 {
		t.Errorf("the handler wrote %d pieces to a client gone (last error %v), want a failure at once", written, failed)
	}
}

// goneClient is a connection whose client has gone: every write of the body fails.
type goneClient struct{ *httptest.ResponseRecorder }

func (goneClient) Write([]byte) (int, error) { return 0, errors.New("write: broken pipe") }

// stalledWriter is a connection whose reader has stopped reading: its writes wait for release.
type stalledWriter struct {
	*httptest.ResponseRecorder
	release chan struct{}
}

func (w *stalledWriter) Write(b []byte) (int, error) {
	<-w.release
	return w.ResponseRecorder.Write(b)
}

// pageHandler answers a 6 KB page through Compress.
func pageHandler() (page string, handler http.Handler) {
	page = strings.Repeat(`<div class="rounded-lg border p-4"><input id="email" name="email" value="support@contoso.example"></div>`, 60)
	return page, Compress(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page)
	}))
}

func gzipRequest() *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	return req
}
