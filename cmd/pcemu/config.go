package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"pcsupport/internal/config/settings"
	"pcsupport/internal/pcemu"
)

// config is the validated command line.
type config struct {
	Listen       string
	JWKSURL      string
	Issuer       string
	Audiences    []string
	DefaultRole  string
	Roles        []roleAssignment
	BOM          bool
	RateLimit    int
	ProfilesFile string // "" keeps the stored profiles in memory only
}

type roleAssignment struct{ TenantID, ObjectID, Role string }

const usageIntro = `pcemu runs the Partner Center profile emulator on its own, for tools that
should talk to a Partner Center stand-in. It serves GET and PUT
/v1/profiles/support and GET /v1/profiles/organization like the real API,
checks access tokens against the issuing provider's keys, and offers fault
injection at /_emulator/ (no token needed: keep it on a development machine).
Stored profiles live in memory unless --profiles-file names a file to keep
them in across restarts.

Every flag can also be set with its environment variable; a flag wins.`

// parseConfig reads flags, then environment variables for what flags left unset.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (config, error) {
	s := settings.New("pcemu", settings.ByFlag, usageIntro)
	listen := s.String("listen", "PCEMU_LISTEN", "127.0.0.1:8090", "`host:port` to listen on")
	jwksURL := s.String("jwks-url", "PCEMU_JWKS_URL", "", "`URL` of the JWKS of the provider that issues the access tokens; this or --issuer is required")
	issuer := s.String("issuer", "PCEMU_ISSUER", "", "issuer `URL`: only its tokens are accepted, and its JWKS is discovered unless --jwks-url is set")
	audience := s.List("audience", "PCEMU_AUDIENCE", "accepted token `audience` (default "+pcemu.AudienceURL+","+pcemu.AudienceAppID+")")
	defaultRole := s.String("default-role", "PCEMU_DEFAULT_ROLE", "", "`role` of users with no --role (default none: read-only); one of "+strings.Join(roleNames(), ", "))
	role := s.List("role", "PCEMU_ROLE", "assign a role as `tid:oid=Role`")
	bom := s.Bool("bom", "PCEMU_BOM", "start every JSON body with a UTF-8 BOM, as some real responses do")
	rateLimit := s.String("rate-limit", "PCEMU_RATE_LIMIT", "0", "`requests` per tenant per minute before 429 (0: no throttling)")
	profilesFile := s.String("profiles-file", "PCEMU_PROFILES_FILE", "", "JSON `file` that keeps the stored support profiles across restarts (default: memory only)")
	if err := s.Parse(args, getenv, output); err != nil {
		return config{}, err
	}

	c := config{Listen: listen.Value(), JWKSURL: jwksURL.Value(), Issuer: issuer.Value(), Audiences: audience.Values(),
		BOM: bom.Bool(), RateLimit: rateLimit.Count(), ProfilesFile: profilesFile.Value()}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		s.Problem("%s %q is not host:port", listen.Name(), c.Listen)
	}
	if c.JWKSURL == "" && c.Issuer == "" {
		s.Problem("%s or %s is required: the emulator verifies token signatures with the issuer's keys", jwksURL.Name(), issuer.Name())
	}
	for _, st := range []*settings.Setting{jwksURL, issuer} {
		if v := st.Value(); v != "" && !isHTTPURL(v) {
			s.Problem("%s %q is not an http or https URL", st.Name(), v)
		}
	}
	if r := defaultRole.Value(); r != "" {
		canonical, ok := pcemu.KnownRole(r)
		if !ok {
			s.Problem("%s %q is not one of %s", defaultRole.Name(), r, strings.Join(roleNames(), ", "))
		}
		c.DefaultRole = canonical
	}
	for _, spec := range role.Values() {
		a, err := parseRole(spec)
		if err != nil {
			s.Problem("%s %q: %v", role.Name(), spec, err)
			continue
		}
		c.Roles = append(c.Roles, a)
	}
	if err := s.Err(); err != nil {
		return config{}, err
	}
	return c, nil
}

func isHTTPURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func parseRole(spec string) (roleAssignment, error) {
	ids, role, ok := strings.Cut(spec, "=")
	tid, oid, ok2 := strings.Cut(ids, ":")
	if !ok || !ok2 || tid == "" || oid == "" || role == "" {
		return roleAssignment{}, errors.New("want tid:oid=Role")
	}
	canonical, known := pcemu.KnownRole(role)
	if !known {
		return roleAssignment{}, fmt.Errorf("role %q is not one of %s", role, strings.Join(roleNames(), ", "))
	}
	return roleAssignment{TenantID: tid, ObjectID: oid, Role: canonical}, nil
}

func roleNames() []string {
	return []string{pcemu.RoleGlobalAdmin, pcemu.RoleAccountAdmin, pcemu.RoleAdminAgent,
		pcemu.RoleSalesAgent, pcemu.RoleHelpdeskAgent, pcemu.RoleBillingAdmin}
}
