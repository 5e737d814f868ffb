package config

import (
	"io"
	"os"
	"strings"
	"testing"
)

// Every value a cloud preset gives can be overridden, by flag or by environment, in every cloud.
func TestEveryCloudPresetValueCanBeOverridden(t *testing.T) {
	for name := range Clouds {
		e := production()
		e["PCS_CLOUD"] = name
		e["PCS_AUTHORITY_HOST"] = "login.example.net"
		e["PCS_PARTNER_CENTER_URL"] = "https://pc.example.net/"
		e["PCS_SCOPE"] = "https://pc.example.net/user_impersonation"
		c, err := Load(nil, env(e), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.Cloud != name || c.AuthorityHost != "login.example.net" || c.PartnerCenterURL != "https://pc.example.net" ||
			c.Scope != "https://pc.example.net/user_impersonation" || !strings.HasPrefix(c.Issuer, "https://login.example.net/") {
			t.Errorf("%s from the environment: %q %q %q %q", name, c.AuthorityHost, c.PartnerCenterURL, c.Scope, c.Issuer)
		}
		c, err = Load([]string{"--authority-host", "login.example.org"}, env(e), io.Discard)
		if err != nil || c.AuthorityHost != "login.example.org" {
			t.Errorf("%s: flag did not win: %v %v", name, c, err)
		}
	}
}

// The README and the deployment guide each have one table row per cloud with the preset's values.
func TestDocumentsShowTheCloudPresets(t *testing.T) {
	for _, doc := range []string{"../../README.md", "../../docs/deploy.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range Clouds {
			found := false
			for _, line := range strings.Split(string(b), "\n") {
				found = found || strings.HasPrefix(line, "| `"+name+"` |") && strings.Contains(line, "`"+c.AuthorityHost+"`") &&
					strings.Contains(line, "`"+c.PartnerCenterURL+"`") && strings.Contains(line, "`"+c.Scope+"`")
			}
			if !found {
				t.Errorf("%s has no row | `%s` | with `%s`, `%s` and `%s`", doc, name, c.AuthorityHost, c.PartnerCenterURL, c.Scope)
			}
		}
	}
}
