package middleware

import (
	"bytes"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzhttp/writer"
	"github.com/klauspost/compress/gzip"
)

// Bodies are compressed on a few goroutines of their own, so that stateless deflate's large stack
// frame grows their stacks, not every connection's (BENCHMARKS.md, "The profile's story"). They
// compress into memory and never write to a connection: a client that reads slowly then holds
// up its own answer, not everyone's.

// deflateJobs is the queue of those goroutines, started on first use. Compression only uses the
// CPU, so more of them than the CPUs would only queue elsewhere; four at most keeps their stacks
// few on a large machine.
var deflateJobs = sync.OnceValue(func() chan *offStackGzip {
	jobs := make(chan *offStackGzip)
	for range min(runtime.GOMAXPROCS(0), 4) {
		go func() {
			for w := range jobs {
				w.err = w.compress()
				w.done <- struct{}{}
			}
		}()
	}
	return jobs
})

// flushAt is how much of a body is kept before it is compressed: a page or a fragment goes over
// in one piece at the end; a long export in pieces of this size.
const flushAt = 64 << 10

// offStackGzip is the gzip writer gzhttp gets: it keeps what is written and has a deflate
// goroutine compress it when it passes flushAt, on Flush and on Close; then it writes the
// compressed bytes to the answer itself.
type offStackGzip struct {
	dst  io.Writer
	gz   *gzip.Writer // at StatelessCompression (nothing kept between writes), writing to out
	buf  []byte       // written, not compressed yet
	more []byte       // a large write handed over as it is, without a copy into buf
	then step         // what the deflate goroutine does after compressing buf and more
	out  bytes.Buffer // compressed, not written to dst yet
	err  error
	done chan struct{}
}

type step int

const (
	stepWrite step = iota
	stepFlush
	stepClose
)

var offStackGzips = sync.Pool{New: func() any {
	w := &offStackGzip{done: make(chan struct{})}
	w.gz, _ = gzip.NewWriterLevel(&w.out, gzip.StatelessCompression) // the level is a constant: no error
	return w
}}

// offStackGzipFactory plugs offStackGzip into gzhttp at its one level.
var offStackGzipFactory = writer.GzipWriterFactory{
	Levels: func() (int, int) { return gzip.StatelessCompression, gzip.StatelessCompression },
	New: func(dst io.Writer, _ int) writer.GzipWriter {
		w := offStackGzips.Get().(*offStackGzip)
		w.dst = dst
		w.gz.Reset(&w.out)
		return w
	},
}

func (w *offStackGzip) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(w.buf)+len(p) <= flushAt {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	w.more = p
	if err := w.handOver(stepWrite); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *offStackGzip) Flush() error { return w.handOver(stepFlush) }

// Close compresses what is left, ends the gzip stream and returns the writer to its pool: gzhttp
// uses it no more.
func (w *offStackGzip) Close() error {
	err := w.handOver(stepClose)
	w.dst, w.buf, w.more, w.err = nil, w.buf[:0], nil, nil
	w.out.Reset()
	if cap(w.buf) <= flushAt && w.out.Cap() <= flushAt {
		offStackGzips.Put(w)
	}
	return err
}

// handOver has a deflate goroutine do the work and waits for it (nothing else touches w
// meanwhile), then writes what it compressed.
func (w *offStackGzip) handOver(then step) error {
	if w.err != nil {
		return w.err
	}
	w.then = then
	deflateJobs() <- w
	<-w.done
	if w.err == nil {
		_, w.err = w.dst.Write(w.out.Bytes())
	}
	w.out.Reset()
	return w.err
}

// compress runs on a deflate goroutine, into w.out.
func (w *offStackGzip) compress() error {
	for _, b := range [][]byte{w.buf, w.more} {
		if len(b) > 0 {
			if _, err := w.gz.Write(b); err != nil {
				return err
			}
		}
	}
	w.buf, w.more = w.buf[:0], nil
	switch w.then {
	case stepFlush:
		return w.gz.Flush()
	case stepClose:
		return w.gz.Close()
	}
	return nil
}
