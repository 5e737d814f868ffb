package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"pcsupport/internal/pcemu"
)

// config is the validated command line.
type config struct {
	Listen      string
	JWKSURL     string
	Issuer      string
	Audiences   []string
	DefaultRole string
	Roles       []roleAssignment
	BOM         bool
	RateLimit   int
}

type roleAssignment struct{ TenantID, ObjectID, Role string }

// option is one setting: its flag, its environment variable and its help.
// Values are kept raw and checked after parsing, so every problem is
// reported at once rather than the first one only.
type option struct {
	name, env, help string
	list            bool // repeatable; the environment variable holds a comma-separated list
	boolean         bool
	raw             []string
	fromFlag        bool
}

func (o *option) String() string { return strings.Join(o.raw, ",") }

func (o *option) Set(v string) error {
	if !o.fromFlag || !o.list {
		o.raw = nil // flags replace the environment's value
	}
	o.fromFlag = true
	if o.list {
		o.raw = append(o.raw, splitList(v)...)
	} else {
		o.raw = []string{v}
	}
	return nil
}

func (o *option) IsBoolFlag() bool { return o.boolean }

func (o *option) value() string {
	if len(o.raw) == 0 {
		return ""
	}
	return o.raw[len(o.raw)-1]
}

func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

const usageIntro = `pcemu runs the Partner Center support-profile emulator on its own, for tools
that should talk to a Partner Center stand-in. It serves GET and PUT
/v1/profiles/support like the real API, checks access tokens against the
issuing provider's keys, and offers fault injection at /_emulator/ (no token
needed: keep it on a development machine).

Every flag can also be set with its environment variable; a flag wins.

`

// parseConfig reads flags, then environment variables for what flags left unset.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (config, error) {
	opts := []*option{
		{name: "listen", env: "PCEMU_LISTEN", help: "`host:port` to listen on (default 127.0.0.1:8090)"},
		{name: "jwks-url", env: "PCEMU_JWKS_URL", help: "`URL` of the JWKS of the provider that issues the access tokens; this or --issuer is required"},
		{name: "issuer", env: "PCEMU_ISSUER", help: "issuer `URL`: only its tokens are accepted, and its JWKS is discovered unless --jwks-url is set"},
		{name: "audience", env: "PCEMU_AUDIENCE", list: true, help: "accepted token `audience`; repeat or use a comma list (default " + pcemu.AudienceURL + "," + pcemu.AudienceAppID + ")"},
		{name: "default-role", env: "PCEMU_DEFAULT_ROLE", help: "`role` of users with no --role (default none: read-only); one of " + strings.Join(roleNames(), ", ")},
		{name: "role", env: "PCEMU_ROLE", list: true, help: "assign a role as `tid:oid=Role`; repeat or use a comma list"},
		{name: "bom", env: "PCEMU_BOM", boolean: true, help: "start every JSON body with a UTF-8 BOM, as some real responses do"},
		{name: "rate-limit", env: "PCEMU_RATE_LIMIT", help: "`requests` per tenant per minute before 429 (default 0: no throttling)"},
	}
	fs := flag.NewFlagSet("pcemu", flag.ContinueOnError)
	fs.SetOutput(output)
	byName := map[string]*option{}
	for _, o := range opts {
		if v := getenv(o.env); v != "" {
			if o.list {
				o.raw = splitList(v)
			} else {
				o.raw = []string{v}
			}
		}
		fs.Var(o, o.name, o.help+" ($"+o.env+")")
		byName[o.name] = o
	}
	fs.Usage = func() {
		fmt.Fprint(output, usageIntro)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}

	var problems []error
	bad := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }
	if fs.NArg() > 0 {
		bad("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	c := config{
		Listen:    cmp.Or(byName["listen"].value(), "127.0.0.1:8090"),
		JWKSURL:   byName["jwks-url"].value(),
		Issuer:    byName["issuer"].value(),
		Audiences: byName["audience"].raw,
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("--listen %q is not host:port", c.Listen)
	}
	if c.JWKSURL == "" && c.Issuer == "" {
		bad("--jwks-url or --issuer is required: the emulator verifies token signatures with the issuer's keys")
	}
	for name, v := range map[string]string{"jwks-url": c.JWKSURL, "issuer": c.Issuer} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			bad("--%s %q is not an http or https URL", name, v)
		}
	}
	if role := byName["default-role"].value(); role != "" {
		canonical, ok := pcemu.KnownRole(role)
		if !ok {
			bad("--default-role %q is not one of %s", role, strings.Join(roleNames(), ", "))
		}
		c.DefaultRole = canonical
	}
	for _, spec := range byName["role"].raw {
		a, err := parseRole(spec)
		if err != nil {
			bad("--role %q: %v", spec, err)
			continue
		}
		c.Roles = append(c.Roles, a)
	}
	if v := byName["bom"].value(); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("--bom %q is not true or false", v)
		}
		c.BOM = b
	}
	if v := byName["rate-limit"].value(); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bad("--rate-limit %q is not a whole number of requests, 0 or more", v)
		}
		c.RateLimit = n
	}
	if len(problems) > 0 {
		return config{}, errors.Join(problems...)
	}
	return c, nil
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
