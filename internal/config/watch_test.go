package config

import (
	"io"
	"testing"
	"time"
)

func TestWatchInterval(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want time.Duration
	}{
		"default":   {nil, 15 * time.Minute},
		"a second":  {map[string]string{"PCS_WATCH_INTERVAL": "1s"}, time.Second},
		"an hour":   {map[string]string{"PCS_WATCH_INTERVAL": "1h"}, time.Hour},
		"flag wins": {map[string]string{"PCS_WATCH_INTERVAL": "1h"}, 2 * time.Minute},
	} {
		e := production()
		for k, v := range tc.env {
			e[k] = v
		}
		var args []string
		if name == "flag wins" {
			args = []string{"--watch-interval", "2m"}
		}
		c, err := Load(args, env(e), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.WatchInterval != tc.want {
			t.Errorf("%s: watch interval %v, want %v", name, c.WatchInterval, tc.want)
		}
	}
}

func TestBadWatchInterval(t *testing.T) {
	base := production()
	delete(base, "PCS_CLIENT_ID") // another problem, listed with this one
	assertRefusedBeside(t, base, "PCS_CLIENT_ID", map[string]refusal{
		"below a second": {map[string]string{"PCS_WATCH_INTERVAL": "999ms"}, `PCS_WATCH_INTERVAL "999ms" must be at least 1s`},
		"zero":           {map[string]string{"PCS_WATCH_INTERVAL": "0"}, `PCS_WATCH_INTERVAL "0" must be a positive duration`},
		"words":          {map[string]string{"PCS_WATCH_INTERVAL": "hourly"}, `PCS_WATCH_INTERVAL "hourly" must be a positive duration`},
	})
}
