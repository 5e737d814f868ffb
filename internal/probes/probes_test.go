package probes

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// /readyz fails only on the checks that count; an informational one is shown and logged.
func TestReadyz(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("down") }
	tests := []struct {
		name   string
		checks []Check
		status int
		lines  []string
	}{
		{"all fine", []Check{{Name: "a", Check: ok}, {Name: "b", Check: ok, Informational: true}}, 200, []string{"a: ok", "b: ok"}},
		{"one that counts fails", []Check{{Name: "a", Check: down}, {Name: "b", Check: ok}}, 503, []string{"a: not ready", "b: ok"}},
		{"an informational one fails", []Check{{Name: "a", Check: ok}, {Name: "history", Check: down, Informational: true}}, 200,
			[]string{"a: ok", "history: failing"}},
	}
	for _, tt := range tests {
		e := echo.New()
		e.GET("/readyz", Readyz(tt.checks, slog.New(slog.DiscardHandler)))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.status)
		}
		for _, l := range tt.lines {
			if !strings.Contains(rec.Body.String(), l) {
				t.Errorf("%s: no line %q in\n%s", tt.name, l, rec.Body.String())
			}
		}
	}
}
