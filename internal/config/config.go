// Package config turns flags and environment variables into one validated Config, reporting every
// missing or malformed setting at once.
package config

import (
	"cmp"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/config/settings"
	"pcsupport/internal/notify"
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
	// ClientCredential is how the app proves its identity at the token endpoint: exactly one of a
	// secret, a certificate or a federated token, decided here. Nil with --dev until the dev
	// stand-ins make one (as DevClientAuth says).
	ClientCredential   clientauth.Credential
	ClientAuthMethod   string // how a secret travels: "auto" (as discovery lists, client_secret_basic first), client_secret_basic or client_secret_post
	SignOutOfMicrosoft bool   // after the app's sign-out, sign out of the provider too (its end_session_endpoint)
	DevClientAuth      string // with --dev: "secret", "certificate" or "federated"

	SessionKeys     [][]byte // pairs of (hash key, encryption key); the first pair signs new cookies
	DataDir         string
	SessionLifetime time.Duration
	SessionStore    string // "filesystem" (under DataDir) or "redis" (shared by replicas)
	RedisURL        string // with SessionStore "redis": redis://[user:password@]host:port/db or rediss://...

	DatabaseURL      string        // change history in PostgreSQL (postgres:// or postgresql://); "" = a SQLite file in DataDir
	HistoryRetention time.Duration // how long history entries are kept; 0 = forever

	NotifyReceivers []notify.Receiver // where every change the history records is told; none = nowhere
	NotifySecret    notify.Secret     // signs the Standard Webhooks receivers' messages; zero when none is given

	// WatchInterval is how often the watcher reads each watching tenant's support profile
	// (changes made outside the app); at least a second.
	WatchInterval time.Duration

	PCTimeout        time.Duration
	RequestDeadline  time.Duration // a page or a save is answered within this, whatever Partner Center does
	PCMaxRetryAfter  time.Duration
	DevTokenLifetime time.Duration
	LogLevel         slog.Level
	LogJSON          bool // structured JSON logs (the default outside --dev)

	publicURLFromListen bool
}

// RedirectURL is where the sign-in provider sends people back to.
func (c *Config) RedirectURL() string { return c.PublicURL.String() + "auth/callback" }

// SignedOutURL is the app's signed-out page, where the provider sends people back after signing
// them out (post_logout_redirect_uri).
func (c *Config) SignedOutURL() string { return c.PublicURL.String() + "auth/signed-out" }

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

// declared is every setting of the app, declared once for flags, environment and --help.
type declared struct {
	set *settings.Set

	dev, listen, publicURL, stripsPrefix, trustedProxies, identityHeader                             *settings.Setting
	cloud, authority, pcURL, scope, issuer, tenant, clientID, secret                                 *settings.Setting
	certificate, certificatePassword, assertion, signOutOfMicrosoft, devClientAuth                   *settings.Setting
	clientAuthMethod                                                                                 *settings.Setting
	keys, dataDir, sessionStore, redisURL, sessionLifetime, pcTimeout, pcRetryAfter, requestDeadline *settings.Setting
	devTokenLifetime, logLevel, logFormat, databaseURL, historyRetention                             *settings.Setting
	notifyWebhooks, notifySecret, watchInterval                                                      *settings.Setting
}

const usageIntro = `Partner Center support profile admin. Every flag but --dev can also be set by the environment
variable named beside it; a flag wins over its variable.`

func declare() *declared {
	s := settings.New("web", settings.ByEnvironment, usageIntro)
	return &declared{
		set:                 s,
		dev:                 s.Bool("dev", "", "run on the embedded development sign-in provider and Partner Center emulator; needs no other setting"),
		listen:              s.String("listen", "PCS_LISTEN", "", "address to listen on (default :8080, or 127.0.0.1:8080 with --dev)"),
		publicURL:           s.String("public-url", "PCS_PUBLIC_URL", "", "URL people open, with any path prefix, e.g. https://tools.example.com/partner/support/ (required; with --dev it follows --listen)"),
		stripsPrefix:        s.Bool("proxy-strips-prefix", "PCS_PROXY_STRIPS_PREFIX", "the reverse proxy removes the public URL's path prefix before requests reach the app: routes are then served at / while every URL the browser sees keeps the prefix"),
		trustedProxies:      s.List("trusted-proxies", "PCS_TRUSTED_PROXIES", "networks (CIDR, or single addresses) of the reverse proxies whose X-Forwarded-For/-Proto/-Host and identity header are believed, e.g. 10.0.0.0/8; from anyone else these headers are dropped"),
		identityHeader:      s.String("identity-header", "PCS_IDENTITY_HEADER", "", "header in which the SSO proxy names the signed-in person, e.g. X-Forwarded-Email: passed to sign-in as login_hint; a session whose user it no longer names ends (needs --trusted-proxies)"),
		cloud:               s.String("cloud", "PCS_CLOUD", "global", "Partner Center cloud preset: global, china, usgov or germany"),
		authority:           s.String("authority-host", "PCS_AUTHORITY_HOST", "", "sign-in authority host (default: the cloud preset's, e.g. login.microsoftonline.com)"),
		pcURL:               s.String("partner-center-url", "PCS_PARTNER_CENTER_URL", "", "Partner Center API base URL (default: the cloud preset's)"),
		scope:               s.String("scope", "PCS_SCOPE", "", "delegated Partner Center scope (default: the cloud preset's user_impersonation scope)"),
		issuer:              s.String("oidc-issuer", "PCS_OIDC_ISSUER", "", "OpenID Connect issuer URL, discovered at start (default: https://<authority-host>/<tenant-id>/v2.0)"),
		tenant:              s.String("tenant-id", "PCS_TENANT_ID", "", "Entra ID tenant id of the partner (required unless --oidc-issuer is set)"),
		clientID:            s.String("client-id", "PCS_CLIENT_ID", "", "application (client) id registered with the sign-in provider (required; AKS workload identity's AZURE_CLIENT_ID when unset)"),
		certificate:         s.String("client-certificate-file", "PCS_CLIENT_CERTIFICATE_FILE", "", "PEM file holding the certificate registered for the app and its private key (RSA or EC): token requests carry an assertion signed with it. One client credential: this, --client-assertion-file or --client-secret"),
		certificatePassword: s.String("client-certificate-password-file", "PCS_CLIENT_CERTIFICATE_PASSWORD_FILE", "", "file holding the password of an encrypted private key (ENCRYPTED PRIVATE KEY) in --client-certificate-file"),
		assertion:           s.String("client-assertion-file", "PCS_CLIENT_ASSERTION_FILE", "", "file holding a token from another identity provider trusted by the app registration (federated credential), re-read as it rotates; AKS workload identity's AZURE_FEDERATED_TOKEN_FILE when no credential is set"),
		secret:              s.String("client-secret", "PCS_CLIENT_SECRET", "", "client secret, the last resort (or --client-secret-file)").WithFile("file holding the client secret"),
		clientAuthMethod:    s.String("client-auth-method", "PCS_CLIENT_AUTH_METHOD", clientauth.AutoMethod, "how the client secret is sent to the token endpoint: auto (as the provider's discovery lists, client_secret_basic first), client_secret_basic or client_secret_post. A certificate or federated token always sends a signed client assertion"),
		signOutOfMicrosoft:  s.Bool("sign-out-of-microsoft", "PCS_SIGN_OUT_OF_MICROSOFT", "after signing out of the app, sign out of Microsoft too (the provider's end_session_endpoint), then come back to the signed-out page"),
		keys:                s.String("session-keys", "PCS_SESSION_KEYS", "", "base64 session keys, space separated: a 32- or 64-byte signing key then a 32-byte encryption key; add older pairs after them to rotate (required, or --session-keys-file)").WithFile("file holding the session keys"),
		dataDir:             s.String("data-dir", "PCS_DATA_DIR", "data", "directory for server-side session files"),
		sessionStore:        s.String("session-store", "PCS_SESSION_STORE", "filesystem", "where sessions live: filesystem (under --data-dir, one replica) or redis (shared by every replica)"),
		redisURL:            s.String("redis-url", "PCS_REDIS_URL", "", "with --session-store redis: redis://[user:password@]host:port/db, or rediss:// for TLS (or --redis-url-file)").WithFile("file holding the Redis URL, when it carries a password"),
		sessionLifetime:     s.String("session-lifetime", "PCS_SESSION_LIFETIME", "8h", "how long a session lasts after sign-in"),
		pcTimeout:           s.String("pc-timeout", "PCS_PC_TIMEOUT", "30s", "deadline for one Partner Center call, retries included"),
		requestDeadline:     s.String("request-deadline", "PCS_REQUEST_DEADLINE", "25s", "a page or a save is answered within this, in the app's own words, whatever Partner Center does: keep it below the reverse proxy's read timeout (nginx 60s, Azure Application Gateway 20s, Front Door 30s); at least 2s"),
		pcRetryAfter:        s.String("pc-max-retry-after", "PCS_PC_MAX_RETRY_AFTER", "5s", "a throttled (429) call is waited out and retried when Retry-After is at most this; longer waits are shown to the person"),
		databaseURL:         s.String("database-url", "PCS_DATABASE_URL", "", "PostgreSQL URL of the change history, postgres://user:password@host:5432/db (default: a SQLite file in --data-dir)").WithFile("file holding the database URL, when it carries a password"),
		historyRetention:    s.String("history-retention", "PCS_HISTORY_RETENTION", "", "how long change history entries are kept, e.g. 400d or 9600h (default: forever)"),
		notifyWebhooks:      s.String("notify-webhooks", "PCS_NOTIFY_WEBHOOKS", "", "webhooks told of every change the history records, space separated: an https URL gets JSON signed as Standard Webhooks says; prefix teams: for a Teams workflow, slack: for a Slack incoming webhook (or --notify-webhooks-file)").WithFile("file holding the webhooks, whose URLs carry their tokens"),
		notifySecret:        s.String("notify-secret", "PCS_NOTIFY_SECRET", "", "whsec_ and base64 of 24 to 64 random bytes: signs the messages to Standard Webhooks receivers (required with one; or --notify-secret-file)").WithFile("file holding the notifications' signing secret"),
		watchInterval:       s.String("watch-interval", "PCS_WATCH_INTERVAL", "15m", "how often a watch (started on the profile page with an admin's sign-in) reads the support profile to notice changes made outside the app; at least 1s"),
		devClientAuth:       s.String("dev-client-auth", "PCS_DEV_CLIENT_AUTH", "secret", "with --dev: how the app authenticates to the development sign-in provider: secret, certificate or federated"),
		devTokenLifetime:    s.String("dev-token-lifetime", "PCS_DEV_TOKEN_LIFETIME", "1h", "with --dev: lifetime of access tokens from the development sign-in provider (short values exercise refresh)"),
		logLevel:            s.String("log-level", "PCS_LOG_LEVEL", "info", "debug, info, warn or error"),
		logFormat:           s.String("log-format", "PCS_LOG_FORMAT", "", "json or text (default json, or text with --dev)"),
	}
}

// ErrHelp is returned when --help was asked for; the usage has been written.
var ErrHelp = flag.ErrHelp

// Load reads flags from args (without the program name) and the environment through getenv. Flags
// win over the environment. The error lists every problem, one per line.
func Load(args []string, getenv func(string) string, usage io.Writer) (*Config, error) {
	d := declare()
	if err := d.set.Parse(args, getenv, usage); err != nil {
		return nil, err
	}
	c := &Config{Dev: d.dev.Bool()}
	bad := d.set.Problem
	c.addresses(d, bad)
	c.proxySettings(d, bad)
	c.signInProvider(d, getenv, bad)
	assertionFrom := ""
	if !c.Dev {
		assertionFrom = c.clientCredential(d, getenv, bad)
		c.sessionKeys(d, bad)
	}
	c.clientAuthMethod(d, assertionFrom, bad)
	c.storage(d, bad)
	c.notifications(d, bad)
	c.runtime(d, bad)
	if err := d.set.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// addresses: where the app listens and the URL people open.
func (c *Config) addresses(d *declared, bad func(string, ...any)) {
	listen, publicURL := d.listen.Value(), d.publicURL.Value()
	c.ListenAddr = listen
	if c.ListenAddr == "" {
		c.ListenAddr = ":8080"
		if c.Dev {
			c.ListenAddr = "127.0.0.1:8080"
		}
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("%s %q is not host:port: %v", d.listen.Name(), c.ListenAddr, err)
	}

	if publicURL == "" && c.Dev {
		publicURL = "http://" + loopbackHostPort(c.ListenAddr) + "/"
		c.publicURLFromListen = true
	}
	switch u, err := url.Parse(publicURL); {
	case publicURL == "":
		bad("%s is missing: the URL people open, e.g. https://tools.example.com/partner/support/", d.publicURL.Name())
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		bad("%s %q must be an absolute http(s) URL with no query, fragment or credentials", d.publicURL.Name(), publicURL)
	default:
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		u.RawPath = ""
		c.PublicURL = u
		c.BasePath = u.Path
		if c.Dev && u.Port() == "0" { // tests: the port is the one actually listened on
			c.publicURLFromListen = true
		} else if c.Dev && listen == "" && u.Port() != "" && isLoopback(u.Hostname()) {
			c.ListenAddr = u.Host // --dev --public-url http://127.0.0.1:9000/prefix/ listens there
		}
	}
}

// signInProvider: the cloud, where people sign in, and the app's registration there.
func (c *Config) signInProvider(d *declared, getenv func(string) string, bad func(string, ...any)) {
	cloud, ok := Clouds[strings.ToLower(d.cloud.Value())]
	if !ok {
		bad("%s %q is not one of global, china, usgov, germany", d.cloud.Name(), d.cloud.Value())
	}
	c.Cloud = cloud.Name
	c.AuthorityHost = cmp.Or(d.authority.Value(), workloadIdentityAuthority(getenv, bad), cloud.AuthorityHost)
	c.PartnerCenterURL = strings.TrimSuffix(cmp.Or(d.pcURL.Value(), cloud.PartnerCenterURL), "/")
	c.Scope = cmp.Or(d.scope.Value(), cloud.Scope)
	if c.AuthorityHost != "" && strings.ContainsAny(c.AuthorityHost, "/:?#") {
		bad("%s %q must be a bare host name such as login.microsoftonline.com", d.authority.Name(), c.AuthorityHost)
	}
	if c.PartnerCenterURL != "" && !isHTTPURL(c.PartnerCenterURL) {
		bad("%s %q must be an absolute http(s) URL", d.pcURL.Name(), c.PartnerCenterURL)
	}

	c.TenantID, c.ClientID, c.Issuer = d.tenant.Value(), cmp.Or(d.clientID.Value(), getenv("AZURE_CLIENT_ID")), d.issuer.Value()
	if c.TenantID == "" && c.Issuer == "" {
		c.TenantID = getenv("AZURE_TENANT_ID")
	}
	c.SignOutOfMicrosoft = d.signOutOfMicrosoft.Bool()
	c.DevClientAuth = strings.ToLower(d.devClientAuth.Value())
	if !slices.Contains(DevClientAuths, c.DevClientAuth) {
		bad("%s %q is not one of %s", d.devClientAuth.Name(), d.devClientAuth.Value(), strings.Join(DevClientAuths, ", "))
	}
	if c.Dev {
		return // the dev provider is the issuer, and registers the client itself
	}
	if c.Issuer == "" && c.TenantID == "" {
		bad("%s is missing (or set %s): the partner's Entra ID tenant id", d.tenant.Name(), d.issuer.Name())
	}
	if c.Issuer == "" && c.TenantID != "" {
		c.Issuer = "https://" + c.AuthorityHost + "/" + url.PathEscape(c.TenantID) + "/v2.0"
	}
	if c.Issuer != "" && !isHTTPURL(c.Issuer) {
		bad("%s %q must be an absolute http(s) URL", d.issuer.Name(), c.Issuer)
	}
	if c.ClientID == "" {
		bad("%s is missing: the application (client) id of the app registration", d.clientID.Name())
	}
}

// sessionKeys: the keys that sign and encrypt sessions, given directly or in a file.
func (c *Config) sessionKeys(d *declared, bad func(string, ...any)) {
	keys := d.keys.Value()
	switch {
	case d.keys.FileFailed():
	case keys == "":
		bad("%s is missing (or set %s): make them with: openssl rand -base64 32; openssl rand -base64 32", d.keys.Name(), d.keys.File().Name())
	default:
		var err error
		if c.SessionKeys, err = parseSessionKeys(keys); err != nil {
			bad("%s: %v", d.keys.Name(), err)
		}
	}
}

// storage: where sessions and the change history live.
func (c *Config) storage(d *declared, bad func(string, ...any)) {
	c.DataDir = d.dataDir.Value()
	if c.DataDir == "" {
		bad("%s must not be empty", d.dataDir.Name())
	}
	c.SessionStore = strings.ToLower(d.sessionStore.Value())
	redisURL := d.redisURL.Value()
	switch {
	case d.redisURL.FileFailed():
	case c.SessionStore == "redis" && redisURL == "":
		bad("%s is missing (or set %s): with %s=redis, e.g. redis://redis:6379/0", d.redisURL.Name(), d.redisURL.File().Name(), d.sessionStore.Name())
	case c.SessionStore == "redis":
		if err := checkRedisURL(redisURL); err != nil {
			bad("%s %v", d.redisURL.Name(), err)
		}
		c.RedisURL = redisURL
	case c.SessionStore != "filesystem":
		bad("%s %q is not one of filesystem, redis", d.sessionStore.Name(), d.sessionStore.Value())
	}

	if dbURL := d.databaseURL.Value(); dbURL != "" {
		if err := checkDatabaseURL(dbURL); err != nil {
			bad("%s %v", d.databaseURL.Name(), err)
		}
		c.DatabaseURL = dbURL
	}
	if v := d.historyRetention.Value(); v != "" {
		r, err := parseRetention(v)
		if err != nil {
			bad("%s %q %v", d.historyRetention.Name(), v, err)
		}
		c.HistoryRetention = r
	}
}

// runtime: timeouts and logs.
func (c *Config) runtime(d *declared, bad func(string, ...any)) {
	c.SessionLifetime = d.sessionLifetime.Duration()
	c.PCTimeout = d.pcTimeout.Duration()
	if c.RequestDeadline = d.requestDeadline.Duration(); c.RequestDeadline > 0 && c.RequestDeadline < 2*time.Second {
		bad("%s %q must be at least 2s: the answer itself needs time", d.requestDeadline.Name(), d.requestDeadline.Value())
	}
	c.PCMaxRetryAfter = d.pcRetryAfter.Duration()
	if c.WatchInterval = d.watchInterval.Duration(); c.WatchInterval > 0 && c.WatchInterval < time.Second {
		bad("%s %q must be at least 1s", d.watchInterval.Name(), d.watchInterval.Value())
	}
	c.DevTokenLifetime = d.devTokenLifetime.Duration()
	format := d.logFormat.Value()
	c.LogJSON = format == "json" || (format == "" && !c.Dev)
	if format != "" && format != "json" && format != "text" {
		bad("%s %q must be json or text", d.logFormat.Name(), format)
	}
	if err := c.LogLevel.UnmarshalText([]byte(d.logLevel.Value())); err != nil {
		bad("%s %q must be debug, info, warn or error", d.logLevel.Name(), d.logLevel.Value())
	}
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

// checkRedisURL accepts redis://[user:password@]host[:port][/db] and rediss://: the one place
// that decides what a Redis URL may be (sessionstore.OpenRedis only refuses what its client cannot read). Its messages never repeat the URL, which may carry a
// password.
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

// Documented lists every setting as (flag, environment variable, default, help), for the README check.
func Documented() [][4]string {
	var out [][4]string
	for _, s := range declare().set.Documented() {
		out = append(out, [4]string{s.Flag, s.Env, s.Default, s.Help})
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
