// Package logline keeps a request to one line in the log: handlers add what they know to the
// line the request log writes when the answer is sent, and every value taken from a request is
// cut to a fixed length, so that nothing a visitor sends can grow the log by more than a little.
package logline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"unicode/utf8"
)

// MaxValue is how many bytes of a value taken from a request are logged; the rest is replaced
// by its length.
const MaxValue = 256

// maxError is how many bytes of an error are logged: the app's own wrapped errors are longer
// than a request's values, and may quote them.
const maxError = 1024

type line struct {
	mu    sync.Mutex
	attrs []slog.Attr
	level slog.Level
}

type key struct{}

// Start gives the request's context a line for handlers to add to.
func Start(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, &line{level: slog.LevelDebug})
}

// Add puts attrs on the request's line; without a line (no request log) they are dropped.
func Add(ctx context.Context, attrs ...slog.Attr) {
	if l, ok := ctx.Value(key{}).(*line); ok {
		l.mu.Lock()
		l.attrs = append(l.attrs, attrs...)
		l.mu.Unlock()
	}
}

// AtLeast makes the request's line be logged at level or above, whatever its status says.
func AtLeast(ctx context.Context, level slog.Level) {
	if l, ok := ctx.Value(key{}).(*line); ok {
		l.mu.Lock()
		l.level = max(l.level, level)
		l.mu.Unlock()
	}
}

// Of returns what handlers added to the request's line and the least level it asks for.
func Of(ctx context.Context) ([]slog.Attr, slog.Level) {
	l, ok := ctx.Value(key{}).(*line)
	if !ok {
		return nil, slog.LevelDebug
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attrs, l.level
}

// Cut is a string attribute of at most MaxValue bytes of value, saying how long the value was
// when it was longer.
func Cut(name, value string) slog.Attr { return slog.String(name, cut(value, MaxValue)) }

// Err is the error attribute, cut at a length fit for the app's own errors.
func Err(err error) slog.Attr {
	if err == nil {
		return slog.String("err", "")
	}
	return slog.String("err", cut(err.Error(), maxError))
}

func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	end := limit
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:end], len(s))
}
