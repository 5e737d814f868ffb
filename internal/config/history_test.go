package config

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHistorySettings(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "db-url")
	os.WriteFile(urlFile, []byte("postgresql://app:pa55word@db.internal:5432/pcsupport?sslmode=require\n"), 0o600)
	for name, tc := range map[string]struct {
		env       map[string]string
		url       string
		retention time.Duration
	}{
		"defaults":       {nil, "", 0},
		"postgres":       {map[string]string{"PCS_DATABASE_URL": "postgres://app@db:5432/pcsupport"}, "postgres://app@db:5432/pcsupport", 0},
		"from file":      {map[string]string{"PCS_DATABASE_URL_FILE": urlFile}, "postgresql://app:pa55word@db.internal:5432/pcsupport?sslmode=require", 0},
		"unix socket":    {map[string]string{"PCS_DATABASE_URL": "postgres:///pcsupport?host=/run/postgresql"}, "postgres:///pcsupport?host=/run/postgresql", 0},
		"days":           {map[string]string{"PCS_HISTORY_RETENTION": "400d"}, "", 400 * 24 * time.Hour},
		"a Go duration":  {map[string]string{"PCS_HISTORY_RETENTION": "9600h"}, "", 9600 * time.Hour},
		"minutes, oddly": {map[string]string{"PCS_HISTORY_RETENTION": "90m"}, "", 90 * time.Minute},
	} {
		e := production()
		for k, v := range tc.env {
			e[k] = v
		}
		c, err := Load(nil, env(e), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.DatabaseURL != tc.url || c.HistoryRetention != tc.retention {
			t.Errorf("%s: URL %q retention %v; want %q %v", name, c.DatabaseURL, c.HistoryRetention, tc.url, tc.retention)
		}
	}
}

// Problems are listed with the others, and never repeat a password the URL carries.
func TestBadHistorySettings(t *testing.T) {
	base := production()
	delete(base, "PCS_CLIENT_ID") // another problem, listed with this one
	assertRefusedBeside(t, base, "PCS_CLIENT_ID", map[string]refusal{
		"mysql":             {map[string]string{"PCS_DATABASE_URL": "mysql://u:hunter2@db/x"}, "PCS_DATABASE_URL must look like postgres://"},
		"unparseable":       {map[string]string{"PCS_DATABASE_URL": "postgres://u:hunter2@db:port:5432/x"}, "PCS_DATABASE_URL must look like"},
		"no host":           {map[string]string{"PCS_DATABASE_URL": "postgres://u:hunter2@/x"}, "PCS_DATABASE_URL names no host"},
		"both URL forms":    {map[string]string{"PCS_DATABASE_URL": "postgres://u:hunter2@db/x", "PCS_DATABASE_URL_FILE": "/nonexistent"}, "both set"},
		"unreadable file":   {map[string]string{"PCS_DATABASE_URL_FILE": "/nonexistent/db-url"}, "PCS_DATABASE_URL_FILE: open /nonexistent/db-url"},
		"retention words":   {map[string]string{"PCS_HISTORY_RETENTION": "a year"}, `PCS_HISTORY_RETENTION "a year" must be a number of days`},
		"retention zero":    {map[string]string{"PCS_HISTORY_RETENTION": "0"}, "leave it empty to keep everything"},
		"retention -1 days": {map[string]string{"PCS_HISTORY_RETENTION": "-1d"}, `PCS_HISTORY_RETENTION "-1d"`},
		"retention forever": {map[string]string{"PCS_HISTORY_RETENTION": "99999999999d"}, "at most 36500"},
	})
}
