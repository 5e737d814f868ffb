// Package config turns flags and environment variables into one validated Config, reporting every
// missing or malformed setting at once.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Cloud is one Partner Center cloud: where people sign in and where the API lives.
type Cloud struct {
	Name             string
	AuthorityHost    string
	PartnerCenterURL string
	Scope            string
}

const globalScope = "https://api.partnercenter.microsoft.com/user_impersonation"

// Clouds are the presets from the Partner Center documentation (see shared/PARTNER-CENTER.md).
var Clouds = map[string]Cloud{
	"global":  {"global", "login.microsoftonline.com", "https://api.partnercenter.microsoft.com", globalScope},
	"china":   {"china", "login.chinacloudapi.cn", "https://partner.partnercenterapi.microsoftonline.cn", "https://partner.partnercenterapi.microsoftonline.cn/user_impersonation"},
	"usgov":   {"usgov", "login.microsoftonline.us", "https://api.partnercenter.microsoft.com", globalScope},
	"germany": {"germany", "login.microsoftonline.de", "https://api.partnercenter.microsoft.com", globalScope},
}

// Config is everything the app needs to run. Fields derived from others (BasePath, RedirectURL,
// Issuer) are filled by Load so that no other package re-derives them.
type Config struct {
	Dev bool // run on the embedded stand-ins; only ever set by the --dev flag, never by the environment

	ListenAddr string
	PublicURL  *url.URL // scheme, host and path prefix as the browser sees them
	BasePath   string   // PublicURL's path, always ending in "/": the cookie path and the prefix of every URL the browser sees
	// RoutePrefix is where the routes are mounted: BasePath, or "/" when the proxy strips the
	// prefix before requests reach the app. Decided here only (see routePrefix).
	RoutePrefix       string
	ProxyStripsPrefix bool

	TrustedProxies []*net.IPNet // forwarded headers (and IdentityHeader) are believed only from these peers
	IdentityHeader string       // canonical name of the SSO proxy's header naming the person, e.g. X-Forwarded-Email; "" = none

	Cloud            string
	AuthorityHost    string
	PartnerCenterURL string
	Scope            string
	Issuer           string
	TenantID         string
	ClientID         string
	ClientSecret     string

	SessionKeys     [][]byte // pairs of (hash key, encryption key); the first pair signs new cookies
	DataDir         string
	SessionLifetime time.Duration
	SessionStore    string // "filesystem" (under DataDir) or "redis" (shared by replicas)
	RedisURL        string // with SessionStore "redis": redis://[user:password@]host:port/db or rediss://...

	PCTimeout        time.Duration
	PCMaxRetryAfter  time.Duration
	DevTokenLifetime time.Duration
	LogLevel         slog.Level
	LogJSON          bool // structured JSON logs (the default outside --dev)

	publicURLFromListen bool
}

// RedirectURL is where the sign-in provider sends people back to.
func (c *Config) RedirectURL() string { return c.PublicURL.String() + "auth/callback" }

// Secure says whether cookies must be Secure: whenever the browser reaches the app over https.
func (c *Config) Secure() bool { return c.PublicURL.Scheme == "https" }

// PortalURL is Partner Center's own page for the support profile (account settings, legal info),
// linked from every page. The 21Vianet portal has no documented address for it: no link there.
func (c *Config) PortalURL() string {
	if c.Cloud == "china" {
		return ""
	}
	return "https://partner.microsoft.com/dashboard/account/v3/organization/legalinfo"
}

// Scopes asks for an ID token, a refresh token and the delegated Partner Center permission.
func (c *Config) Scopes() []string {
	return []string{"openid", "profile", "email", "offline_access", c.Scope}
}

// setting describes one option once, for the flag, the environment variable and the help text.
type setting struct {
	flag, env, def, help string
	dest                 *string
}

type raw struct {
	listen, publicURL, cloud, authority, pcURL, scope, issuer, tenant, clientID, secret, secretFile,
	keys, keysFile, dataDir, sessionLifetime, pcTimeout, pcRetryAfter, devTokenLifetime, logLevel,
	sessionStore, redisURL, redisURLFile, stripsPrefix, trustedProxies, identityHeader, logFormat string
}

func (r *raw) settings() []setting {
	return []setting{
		{"listen", "PCS_LISTEN", "", "address to listen on (default :8080, or 127.0.0.1:8080 with --dev)", &r.listen},
		{"public-url", "PCS_PUBLIC_URL", "", "URL people open, with any path prefix, e.g. https://tools.example.com/partner/support/ (required; with --dev it follows --listen)", &r.publicURL},
		{"proxy-strips-prefix", "PCS_PROXY_STRIPS_PREFIX", "false", "the reverse proxy removes the public URL's path prefix before requests reach the app: routes are then served at / while every URL the browser sees keeps the prefix", &r.stripsPrefix},
		{"trusted-proxies", "PCS_TRUSTED_PROXIES", "", "networks (CIDR, or single addresses) of the reverse proxies whose X-Forwarded-For/-Proto/-Host and identity header are believed, comma separated, e.g. 10.0.0.0/8; from anyone else these headers are dropped", &r.trustedProxies},
		{"identity-header", "PCS_IDENTITY_HEADER", "", "header in which the SSO proxy names the signed-in person, e.g. X-Forwarded-Email: passed to sign-in as login_hint; a session whose user it no longer names ends (needs --trusted-proxies)", &r.identityHeader},
		{"cloud", "PCS_CLOUD", "global", "Partner Center cloud preset: global, china, usgov or germany", &r.cloud},
		{"authority-host", "PCS_AUTHORITY_HOST", "", "sign-in authority host (default: the cloud preset's, e.g. login.microsoftonline.com)", &r.authority},
		{"partner-center-url", "PCS_PARTNER_CENTER_URL", "", "Partner Center API base URL (default: the cloud preset's)", &r.pcURL},
		{"scope", "PCS_SCOPE", "", "delegated Partner Center scope (default: the cloud preset's user_impersonation scope)", &r.scope},
		{"oidc-issuer", "PCS_OIDC_ISSUER", "", "OpenID Connect issuer URL, discovered at start (default: https://<authority-host>/<tenant-id>/v2.0)", &r.issuer},
		{"tenant-id", "PCS_TENANT_ID", "", "Entra ID tenant id of the partner (required unless --oidc-issuer is set)", &r.tenant},
		{"client-id", "PCS_CLIENT_ID", "", "application (client) id registered with the sign-in provider (required)", &r.clientID},
		{"client-secret", "PCS_CLIENT_SECRET", "", "client secret (required, or --client-secret-file)", &r.secret},
		{"client-secret-file", "PCS_CLIENT_SECRET_FILE", "", "file holding the client secret", &r.secretFile},
		{"session-keys", "PCS_SESSION_KEYS", "", "base64 session keys, space separated: a 32- or 64-byte signing key then a 32-byte encryption key; add older pairs after them to rotate (required, or --session-keys-file)", &r.keys},
		{"session-keys-file", "PCS_SESSION_KEYS_FILE", "", "file holding the session keys", &r.keysFile},
		{"data-dir", "PCS_DATA_DIR", "data", "directory for server-side session files", &r.dataDir},
		{"session-store", "PCS_SESSION_STORE", "filesystem", "where sessions live: filesystem (under --data-dir, one replica) or redis (shared by every replica)", &r.sessionStore},
		{"redis-url", "PCS_REDIS_URL", "", "with --session-store redis: redis://[user:password@]host:port/db, or rediss:// for TLS (or --redis-url-file)", &r.redisURL},
		{"redis-url-file", "PCS_REDIS_URL_FILE", "", "file holding the Redis URL, when it carries a password", &r.redisURLFile},
		{"session-lifetime", "PCS_SESSION_LIFETIME", "8h", "how long a session lasts after sign-in", &r.sessionLifetime},
		{"pc-timeout", "PCS_PC_TIMEOUT", "30s", "deadline for one Partner Center call, retries included", &r.pcTimeout},
		{"pc-max-retry-after", "PCS_PC_MAX_RETRY_AFTER", "5s", "a throttled (429) call is waited out and retried when Retry-After is at most this; longer waits are shown to the person", &r.pcRetryAfter},
		{"dev-token-lifetime", "PCS_DEV_TOKEN_LIFETIME", "1h", "with --dev: lifetime of access tokens from the development sign-in provider (short values exercise refresh)", &r.devTokenLifetime},
		{"log-level", "PCS_LOG_LEVEL", "info", "debug, info, warn or error", &r.logLevel},
		{"log-format", "PCS_LOG_FORMAT", "", "json or text (default json, or text with --dev)", &r.logFormat},
	}
}

// ErrHelp is returned when --help was asked for; the usage has been written.
var ErrHelp = flag.ErrHelp

// Load reads flags from args (without the program name) and the environment through getenv. Flags
// win over the environment. The error lists every problem, one per line.
func Load(args []string, getenv func(string) string, usage io.Writer) (*Config, error) {
	var r raw
	var dev bool
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.BoolVar(&dev, "dev", false, "run on the embedded development sign-in provider and Partner Center emulator; needs no other setting")
	for _, s := range r.settings() {
		help := fmt.Sprintf("%s (env %s)", s.help, s.env)
		if s.def != "" {
			help = fmt.Sprintf("%s (env %s, default %s)", s.help, s.env, s.def)
		}
		if s.def == "false" { // a switch: --name alone means true
			fs.Var(boolString{s.dest}, s.flag, help)
			continue
		}
		fs.StringVar(s.dest, s.flag, "", help)
	}
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: web [flags]\n\nPartner Center support profile admin. Every flag can also be set by the environment variable named after it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range r.settings() {
		if !set[s.flag] {
			*s.dest = getenv(s.env)
		}
		if *s.dest == "" {
			*s.dest = s.def
		}
	}
	return r.validate(dev)
}

func (r *raw) validate(dev bool) (*Config, error) {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	c := &Config{Dev: dev, DataDir: r.dataDir}

	c.ListenAddr = r.listen
	if c.ListenAddr == "" {
		c.ListenAddr = ":8080"
		if dev {
			c.ListenAddr = "127.0.0.1:8080"
		}
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("PCS_LISTEN %q is not host:port: %v", c.ListenAddr, err)
	}

	if r.publicURL == "" && dev {
		r.publicURL = "http://" + loopbackHostPort(c.ListenAddr) + "/"
		c.publicURLFromListen = true
	}
	switch u, err := url.Parse(r.publicURL); {
	case r.publicURL == "":
		bad("PCS_PUBLIC_URL is missing: the URL people open, e.g. https://tools.example.com/partner/support/")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		bad("PCS_PUBLIC_URL %q must be an absolute http(s) URL with no query, fragment or credentials", r.publicURL)
	default:
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		u.RawPath = ""
		c.PublicURL = u
		c.BasePath = u.Path
		if dev && u.Port() == "0" { // tests: the port is the one actually listened on
			c.publicURLFromListen = true
		} else if dev && r.listen == "" && u.Port() != "" && isLoopback(u.Hostname()) {
			c.ListenAddr = u.Host // --dev --public-url http://127.0.0.1:9000/prefix/ listens there
		}
	}
	c.proxySettings(r, bad)

	cloud, ok := Clouds[strings.ToLower(r.cloud)]
	if !ok {
		bad("PCS_CLOUD %q is not one of global, china, usgov, germany", r.cloud)
	}
	c.Cloud = cloud.Name
	c.AuthorityHost = or(r.authority, cloud.AuthorityHost)
	c.PartnerCenterURL = strings.TrimSuffix(or(r.pcURL, cloud.PartnerCenterURL), "/")
	c.Scope = or(r.scope, cloud.Scope)
	if c.AuthorityHost != "" && strings.ContainsAny(c.AuthorityHost, "/:?#") {
		bad("PCS_AUTHORITY_HOST %q must be a bare host name such as login.microsoftonline.com", c.AuthorityHost)
	}
	if c.PartnerCenterURL != "" && !isHTTPURL(c.PartnerCenterURL) {
		bad("PCS_PARTNER_CENTER_URL %q must be an absolute http(s) URL", c.PartnerCenterURL)
	}

	c.TenantID, c.ClientID = r.tenant, r.clientID
	c.Issuer = r.issuer
	c.ClientSecret = r.secret
	if !dev {
		if c.Issuer == "" && c.TenantID == "" {
			bad("PCS_TENANT_ID is missing (or set PCS_OIDC_ISSUER): the partner's Entra ID tenant id")
		}
		if c.Issuer == "" && c.TenantID != "" {
			c.Issuer = "https://" + c.AuthorityHost + "/" + url.PathEscape(c.TenantID) + "/v2.0"
		}
		if c.Issuer != "" && !isHTTPURL(c.Issuer) {
			bad("PCS_OIDC_ISSUER %q must be an absolute http(s) URL", c.Issuer)
		}
		if c.ClientID == "" {
			bad("PCS_CLIENT_ID is missing: the application (client) id of the app registration")
		}
		secret, err := valueOrFile(r.secret, r.secretFile, "PCS_CLIENT_SECRET")
		if err != nil {
			bad("%v", err)
		} else if secret == "" {
			bad("PCS_CLIENT_SECRET is missing (or set PCS_CLIENT_SECRET_FILE)")
		}
		c.ClientSecret = secret
		keys, err := valueOrFile(r.keys, r.keysFile, "PCS_SESSION_KEYS")
		if err != nil {
			bad("%v", err)
		} else if keys == "" {
			bad("PCS_SESSION_KEYS is missing (or set PCS_SESSION_KEYS_FILE): make them with: openssl rand -base64 32; openssl rand -base64 32")
		} else if c.SessionKeys, err = parseSessionKeys(keys); err != nil {
			bad("PCS_SESSION_KEYS: %v", err)
		}
	}

	durations := []struct {
		name string
		in   string
		out  *time.Duration
	}{
		{"PCS_SESSION_LIFETIME", r.sessionLifetime, &c.SessionLifetime},
		{"PCS_PC_TIMEOUT", r.pcTimeout, &c.PCTimeout},
		{"PCS_PC_MAX_RETRY_AFTER", r.pcRetryAfter, &c.PCMaxRetryAfter},
		{"PCS_DEV_TOKEN_LIFETIME", r.devTokenLifetime, &c.DevTokenLifetime},
	}
	for _, d := range durations {
		v, err := time.ParseDuration(d.in)
		if err != nil || v <= 0 {
			bad("%s %q must be a positive duration such as 30s or 8h", d.name, d.in)
		}
		*d.out = v
	}
	c.LogJSON = r.logFormat == "json" || (r.logFormat == "" && !dev)
	if r.logFormat != "" && r.logFormat != "json" && r.logFormat != "text" {
		bad("PCS_LOG_FORMAT %q must be json or text", r.logFormat)
	}
	if err := c.LogLevel.UnmarshalText([]byte(r.logLevel)); err != nil {
		bad("PCS_LOG_LEVEL %q must be debug, info, warn or error", r.logLevel)
	}
	if c.DataDir == "" {
		bad("PCS_DATA_DIR must not be empty")
	}
	c.SessionStore = strings.ToLower(r.sessionStore)
	redisURL, err := valueOrFile(r.redisURL, r.redisURLFile, "PCS_REDIS_URL")
	switch {
	case err != nil:
		bad("%v", err)
	case c.SessionStore == "redis" && redisURL == "":
		bad("PCS_REDIS_URL is missing (or set PCS_REDIS_URL_FILE): with PCS_SESSION_STORE=redis, e.g. redis://redis:6379/0")
	case c.SessionStore == "redis":
		if err := checkRedisURL(redisURL); err != nil {
			bad("PCS_REDIS_URL %v", err)
		}
		c.RedisURL = redisURL
	case c.SessionStore != "filesystem":
		bad("PCS_SESSION_STORE %q is not one of filesystem, redis", r.sessionStore)
	}

	if len(problems) > 0 {
		return nil, errors.New("configuration is incomplete:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
}

// parseSessionKeys reads pairs of base64 keys: a signing key of 32 or 64 bytes, then an AES key of 32 bytes.
func parseSessionKeys(s string) ([][]byte, error) {
	fields := strings.Fields(strings.ReplaceAll(s, ",", " "))
	if len(fields)%2 != 0 {
		return nil, fmt.Errorf("need pairs of keys (signing key, encryption key), got %d key(s)", len(fields))
	}
	keys := make([][]byte, 0, len(fields))
	for i, f := range fields {
		k, err := base64.StdEncoding.DecodeString(f)
		if err != nil {
			if k, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(f, "=")); err != nil {
				return nil, fmt.Errorf("key %d is not base64", i+1)
			}
		}
		if i%2 == 0 && len(k) != 32 && len(k) != 64 {
			return nil, fmt.Errorf("signing key %d is %d bytes; it must be 32 or 64", i+1, len(k))
		}
		if i%2 == 1 && len(k) != 32 {
			return nil, fmt.Errorf("encryption key %d is %d bytes; it must be 32", i+1, len(k))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// valueOrFile returns the value, or the trimmed contents of the file; setting both is a mistake.
func valueOrFile(value, file, name string) (string, error) {
	if value != "" && file != "" {
		return "", fmt.Errorf("%s and %s_FILE are both set: keep one", name, name)
	}
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %v", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// checkRedisURL accepts redis://[user:password@]host[:port][/db] and rediss://. Its messages
// never repeat the URL, which may carry a password.
func checkRedisURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" || u.Opaque != "" {
		return errors.New("must look like redis://[user:password@]host:port/db, or rediss://... for TLS")
	}
	if host := u.Hostname(); host == "" || strings.Contains(host, ":") && !strings.HasPrefix(u.Host, "[") {
		return errors.New("must look like redis://[user:password@]host:port/db, or rediss://... for TLS")
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if _, err := strconv.ParseUint(db, 10, 8); err != nil {
			return fmt.Errorf("names database %q: want a number such as /0", db)
		}
	}
	return nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// loopbackHostPort turns a listen address such as ":8080" into one a browser can open.
func loopbackHostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Documented lists every setting as (flag, environment variable, default, help), for the README check.
func Documented() [][4]string {
	var r raw
	out := [][4]string{{"dev", "", "", "run on the embedded stand-ins"}}
	for _, s := range r.settings() {
		out = append(out, [4]string{s.flag, s.env, s.def, s.help})
	}
	return out
}

// UseListenerAddr sets the public URL from the address actually listened on, when --dev derived
// it from --listen (which may ask for port 0) or was given with port 0.
func (c *Config) UseListenerAddr(addr string) {
	if !c.publicURLFromListen {
		return
	}
	u := *c.PublicURL // the path prefix, if any, stays
	u.Host = loopbackHostPort(addr)
	c.PublicURL = &u
}
