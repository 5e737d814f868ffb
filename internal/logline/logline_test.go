package logline

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestCut(t *testing.T) {
	tests := []struct{ in, want string }{
		{"short", "short"},
		{strings.Repeat("a", MaxValue), strings.Repeat("a", MaxValue)},
		{strings.Repeat("a", 60<<10), strings.Repeat("a", MaxValue) + "… (61440 bytes)"},
		// Never half a character: the cut moves back to where the rune starts.
		{strings.Repeat("a", MaxValue-1) + "é" + "z", strings.Repeat("a", MaxValue-1) + "… (258 bytes)"},
	}
	for _, tt := range tests {
		if got := Cut("path", tt.in).Value.String(); got != tt.want {
			t.Errorf("Cut(%d bytes) = %q, want %q", len(tt.in), got, tt.want)
		}
	}
	if got := Err(errors.New(strings.Repeat("e", 5000))).Value.String(); len(got) > maxError+30 || !strings.HasSuffix(got, "(5000 bytes)") {
		t.Errorf("Err of 5000 bytes = %d bytes: %.40q…", len(got), got)
	}
}

func TestLineCollectsWhatHandlersAdd(t *testing.T) {
	ctx := Start(context.Background())
	Add(ctx, slog.String("a", "1"))
	AtLeast(ctx, slog.LevelWarn)
	AtLeast(ctx, slog.LevelInfo) // never lowers it
	Add(ctx, slog.String("b", "2"))
	attrs, level := Of(ctx)
	if len(attrs) != 2 || level != slog.LevelWarn {
		t.Errorf("line: %v at %v, want two attributes at WARN", attrs, level)
	}
	Add(context.Background(), slog.String("c", "3")) // no line: dropped, no panic
	if attrs, level := Of(context.Background()); attrs != nil || level != slog.LevelDebug {
		t.Errorf("without a line: %v at %v", attrs, level)
	}
}
