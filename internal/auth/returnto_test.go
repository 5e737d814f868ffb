package auth

import (
	"strings"
	"testing"
)

func TestSafeReturnTo(t *testing.T) {
	tests := []struct{ base, target, want string }{
		{"/", "/", "/"},
		{"/", "/?tab=1", "/?tab=1"},
		{"/", "", "/"},
		{"/app/", "/app/", "/app/"},
		{"/app/", "/app/save?x=1#frag", "/app/save?x=1"},
		{"/app/", "/app", "/app"},
		{"/app/", "/other/", "/app/"},
		{"/app/", "/app/../other", "/app/"},
		{"/app/", "/app/%2e%2e/other", "/app/"},
		{"/", "//evil.example", "/"},
		{"/", "//evil.example/", "/"},
		{"/", "https://evil.example", "/"},
		{"/", "http:/evil.example", "/"},
		{"/", "/\\evil.example", "/"},
		{"/", "\\\\evil.example", "/"},
		{"/", "/%5Cevil.example", "/"},
		{"/", "/%2F%2Fevil.example", "/"},
		{"/", "/%2f/evil.example", "/"},
		{"/", "%2F%2Fevil.example", "/"},
		{"/", "javascript:alert(1)", "/"},
		{"/", "/\t/evil.example", "/"},
		{"/", "/\r\nLocation: x", "/"},
		{"/", "evil.example", "/"},
		{"/", "///evil.example", "/"},
		{"/", "/.//evil.example", "/"},
		{"/", "/?q=" + strings.Repeat("a", 508), "/?q=" + strings.Repeat("a", 508)},
		{"/", "/?q=" + strings.Repeat("a", 509), "/"},
		{"/", "/" + strings.Repeat("<", 200), "/"}, // 201 bytes as sent, 601 once escaped
	}
	for _, tt := range tests {
		if got := SafeReturnTo(tt.base, tt.target); got != tt.want {
			t.Errorf("SafeReturnTo(%q, %q) = %q, want %q", tt.base, tt.target, got, tt.want)
		}
	}
}
