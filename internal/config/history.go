package config

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// checkDatabaseURL accepts postgres:// and postgresql:// URLs (libpq's form). Its messages never
// repeat the URL, which may carry a password.
func checkDatabaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" ||
		strings.Contains(u.Hostname(), ":") && !strings.HasPrefix(u.Host, "[") {
		return errors.New("must look like postgres://user:password@host:5432/database (or postgresql://...)")
	}
	if u.Host == "" && u.Query().Get("host") == "" { // a Unix socket is named by ?host=/path
		return errors.New("names no host: want postgres://user:password@host:5432/database")
	}
	return nil
}

const maxRetentionDays = 100 * 365 // keeps the duration far from overflowing

// parseRetention reads a positive Go duration (9600h) or a number of days (400d), since
// retention is thought of in days.
func parseRetention(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > maxRetentionDays {
			return 0, errors.New("must be a number of days such as 400d (at most 36500), or a duration such as 9600h")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("must be a number of days such as 400d, or a duration such as 9600h (leave it empty to keep everything)")
	}
	return d, nil
}
