package auth

import (
	"net/url"
	"path"
	"strings"
)

// maxReturnTo bounds a return target as it is kept, escaped: the app's own pages have short URLs,
// and the target travels in a cookie during sign-in, beside the pending sign-ins of other tabs.
const maxReturnTo = 512

// SafeReturnTo returns target when it is a local path under basePath of at most maxReturnTo
// bytes once escaped, and basePath otherwise, so that a crafted sign-in link can never send someone to
// another site (open redirect) nor make the pending sign-in too large to carry.
func SafeReturnTo(basePath, target string) string {
	if !strings.HasSuffix(basePath, "/") {
		basePath += "/"
	}
	if target == "" || len(target) > maxReturnTo || strings.ContainsAny(target, "\\\x00\r\n\t") || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
		return basePath
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return basePath
	}
	// Decoded, the path must still be a plain local path: %2F%2F or %5C tricks are refused.
	p := u.Path
	if strings.HasPrefix(p, "//") || strings.Contains(p, "\\") {
		return basePath
	}
	cleaned := path.Clean(p)
	if strings.HasSuffix(p, "/") && cleaned != "/" {
		cleaned += "/"
	}
	if cleaned != p || !(strings.HasPrefix(cleaned, basePath) || cleaned+"/" == basePath) {
		return basePath
	}
	u.Fragment = ""
	if kept := u.RequestURI(); len(kept) <= maxReturnTo {
		return kept
	}
	return basePath
}
