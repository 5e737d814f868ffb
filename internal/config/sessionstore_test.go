package config

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestSessionStoreDefaultsToFilesystem(t *testing.T) {
	c, err := Load(nil, env(production()), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionStore != "filesystem" || c.RedisURL != "" {
		t.Errorf("session store %q, redis URL %q; want filesystem and none", c.SessionStore, c.RedisURL)
	}
}

func TestRedisSessionStore(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "redis-url")
	os.WriteFile(urlFile, []byte("rediss://app:pa55word@redis.internal:6380/2\n"), 0o600)
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"plain":     {map[string]string{"PCS_SESSION_STORE": "redis", "PCS_REDIS_URL": "redis://127.0.0.1:6379/0"}, "redis://127.0.0.1:6379/0"},
		"no db":     {map[string]string{"PCS_SESSION_STORE": "Redis", "PCS_REDIS_URL": "redis://redis"}, "redis://redis"},
		"from file": {map[string]string{"PCS_SESSION_STORE": "redis", "PCS_REDIS_URL_FILE": urlFile}, "rediss://app:pa55word@redis.internal:6380/2"},
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
		if c.SessionStore != "redis" || c.RedisURL != tc.want {
			t.Errorf("%s: store %q, URL %q; want redis, %q", name, c.SessionStore, c.RedisURL, tc.want)
		}
	}
}

// Problems are listed with the others, and never repeat a password the URL carries.
func TestBadRedisSettings(t *testing.T) {
	base := production()
	delete(base, "PCS_CLIENT_ID") // another problem, listed with this one
	assertRefusedBeside(t, base, "PCS_CLIENT_ID", map[string]refusal{
		"unknown store":  {map[string]string{"PCS_SESSION_STORE": "memcached"}, "PCS_SESSION_STORE"},
		"missing URL":    {map[string]string{"PCS_SESSION_STORE": "redis"}, "PCS_REDIS_URL is missing"},
		"wrong scheme":   {map[string]string{"PCS_SESSION_STORE": "redis", "PCS_REDIS_URL": "http://u:hunter2@redis:6379"}, "PCS_REDIS_URL must look like"},
		"bad database":   {map[string]string{"PCS_SESSION_STORE": "redis", "PCS_REDIS_URL": "redis://u:hunter2@redis:6379/sessions"}, "names database"},
		"unparseable":    {map[string]string{"PCS_SESSION_STORE": "redis", "PCS_REDIS_URL": "redis://u:hunter2@redis:port:6379"}, "PCS_REDIS_URL must look like"},
		"both URL forms": {map[string]string{"PCS_SESSION_STORE": "redis", "PCS_REDIS_URL": "redis://u:hunter2@redis", "PCS_REDIS_URL_FILE": "/nonexistent"}, "both set"},
	})
}
