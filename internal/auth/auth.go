// Package auth signs people in with OpenID Connect (authorization code, PKCE, state and nonce) and
// keeps their sessions and tokens on the server; the browser only holds a signed, encrypted
// reference to its session.
package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/keyedlock"
	"pcsupport/internal/sessionstore"
)

const sessionCookie = "pcs_session"

var (
	// ErrNotSignedIn means the request carries no valid session.
	ErrNotSignedIn = errors.New("not signed in")
	// ErrSignInRequired means the session's tokens can no longer be renewed silently; the person
	// must sign in again.
	ErrSignInRequired = errors.New("sign-in required")
	// ErrSignInState means the callback's state is unknown, expired or already used.
	ErrSignInState = errors.New("sign-in state unknown, expired or already used")
	// ErrSignInProviderUnavailable means the sign-in provider did not answer (discovery or a
	// token refresh): not a refusal, so trying again later may work.
	ErrSignInProviderUnavailable = errors.New("sign-in provider not answering")
)

// ProviderError is an error the sign-in provider sent back to the callback instead of a code
// (consent missing, the person cancelled, conditional access, ...).
type ProviderError struct {
	Code        string // OAuth error, e.g. access_denied
	Description string // provider's text, e.g. "AADSTS65001: The user or administrator has not consented..."
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("sign-in provider returned %s: %s", e.Code, e.Description)
}

// User is who is signed in, from the verified ID token.
type User struct {
	Subject    string
	ObjectID   string // Entra ID oid, when present
	TenantID   string // Entra ID tid, when present
	Name       string
	Username   string // preferred_username (the UPN in Entra ID)
	Email      string
	AMR        []string // authentication methods; nil when the provider does not say
	AMRSaid    bool     // the provider said, if only with an empty amr (which the session's gob encoding stores as nil)
	SignedInAt time.Time
	LoginHint  string // Entra ID's login_hint claim (an optional claim): the logout_hint of a sign-out
	// DirectoryRoles are the Entra ID role template ids of the person (the wids claim), when the
	// tokens carry them.
	DirectoryRoles []string
}

// globalAdministrator is Entra ID's Global Administrator role template id: a person holding it
// may change the partner's account settings in Partner Center.
const globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"

// GlobalAdministrator reports that the tokens name the person a Global Administrator.
func (u User) GlobalAdministrator() bool {
	return slices.Contains(u.DirectoryRoles, globalAdministrator)
}

// DisplayName is the name to greet the person with.
func (u User) DisplayName() string {
	for _, s := range []string{u.Name, u.Username, u.Email, u.Subject} {
		if s != "" {
			return s
		}
	}
	return ""
}

// MFAMissing reports that the token says how the person signed in and multi-factor
// authentication is not among the methods. Partner Center refuses such tokens. When the
// provider does not say (no amr claim), Partner Center decides.
func (u User) MFAMissing() bool {
	return (u.AMR != nil || u.AMRSaid) && !slices.Contains(u.AMR, "mfa")
}

// storedTokens are the OAuth tokens kept in the server-side session.
type storedTokens struct {
	Access   string
	Refresh  string
	Type     string
	Expiry   time.Time
	Obtained time.Time
	// IDToken is the raw ID token the provider issued last (at sign-in, or with a refresh): the
	// id_token_hint of a sign-out. "" in a session made before the app kept it.
	IDToken string
}

type sessionData struct {
	User   User
	Tokens storedTokens
}

func init() { gob.Register(sessionData{}) }

// Config configures a Manager.
type Config struct {
	Issuer   string
	ClientID string
	// ClientCredential authenticates the app at the token endpoint (a secret, a certificate or a
	// federated token). Required.
	ClientCredential ClientCredential
	// ClientAuthMethod is how a secret travels: clientauth.SecretBasic or SecretPost, or, when ""
	// or clientauth.AutoMethod, as the provider's discovery lists (clientauth.SecretMethod). A
	// certificate or a federated token always goes in the form as a client assertion.
	ClientAuthMethod string
	RedirectURL      string
	// SignOutOfProvider sends people to the provider's end_session_endpoint after SignOut, which
	// then sends them back to SignedOutURL (see ProviderSignOutURL).
	SignOutOfProvider bool
	SignedOutURL      string
	Scopes            []string
	BasePath          string // targets after sign-in must stay under it, and the path of the app's cookies
	Store             sessionstore.Store
	// CookieKeys seal what the browser carries before sign-in (the pending sign-in, typed values
	// waiting for their owner, who signed in last): pairs of signing and encryption keys, the
	// first pair for new cookies, as for the session store.
	CookieKeys [][]byte
	Secure     bool // cookies are Secure (the public URL is https)
	// RefreshLocker serialises token refreshes per session; replicas sharing Store must share it.
	// Default: a keyedlock.Locks within this process, for one replica.
	RefreshLocker RefreshLocker
	HTTPClient    *http.Client // for discovery and the token endpoint; nil = a client with a 30 s timeout
	// RefreshMargin: access tokens are renewed this long before they expire (Partner Center
	// guidance is 30 s or more). Default 2 minutes.
	RefreshMargin   time.Duration
	SessionLifetime time.Duration
	Now             func() time.Time
	Logger          *slog.Logger
}

// Manager runs sign-in, sign-out, sessions and the refreshing token source.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	locks RefreshLocker

	pending  sealedCookie // sign-ins under way
	kept     sealedCookie // typed values waiting for their owner
	flashes  sealedCookie // the one-time message after a save without JavaScript
	roles    sealedCookie // a save refused for the person's role
	identity sealedCookie // who last signed in on this browser

	mu         sync.Mutex // guards the discovered provider and the last readiness check
	oauth      *oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string // the provider's end_session_endpoint, "" when it has none
	checkedAt  time.Time
	checkErr   error
}

// New returns a Manager. Discovery happens on first use (and is retried until it succeeds), so
// the app starts even while the provider is unreachable.
func New(cfg Config) (*Manager, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.ClientCredential == nil || cfg.RedirectURL == "" || cfg.Store == nil || len(cfg.CookieKeys) == 0 {
		return nil, errors.New("auth: Issuer, ClientID, ClientCredential, RedirectURL, Store and CookieKeys are required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	switch cfg.ClientAuthMethod {
	case "", clientauth.AutoMethod, clientauth.SecretBasic, clientauth.SecretPost:
	default:
		return nil, fmt.Errorf("auth: ClientAuthMethod %q is not %s, %s or %s", cfg.ClientAuthMethod, clientauth.AutoMethod, clientauth.SecretBasic, clientauth.SecretPost)
	}
	cfg.HTTPClient = withClientCredential(cfg.HTTPClient, cfg.ClientID, cfg.ClientCredential)
	if cfg.RefreshMargin == 0 {
		cfg.RefreshMargin = 2 * time.Minute
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 8 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshLocker == nil {
		cfg.RefreshLocker = &keyedlock.Locks{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if !strings.HasSuffix(cfg.BasePath, "/") {
		cfg.BasePath += "/"
	}
	return &Manager{cfg: cfg, log: cfg.Logger, locks: cfg.RefreshLocker,
		pending:  newSealedCookie(cfg.CookieKeys, cfg.BasePath+"auth/", cfg.Secure, pendingLifetime),
		kept:     newSealedCookie(cfg.CookieKeys, cfg.BasePath, cfg.Secure, keptLifetime),
		flashes:  newSealedCookie(cfg.CookieKeys, cfg.BasePath, cfg.Secure, flashLifetime),
		roles:    newSealedCookie(cfg.CookieKeys, cfg.BasePath, cfg.Secure, roleRefusalLasts),
		identity: newSealedCookie(cfg.CookieKeys, cfg.BasePath, cfg.Secure, cfg.SessionLifetime+identityOutlives),
	}, nil
}

func (m *Manager) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, m.cfg.HTTPClient)
}

// discover fetches the provider's metadata once.
func (m *Manager) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.oauth != nil {
		return m.oauth, m.verifier, nil
	}
	p, err := oidc.NewProvider(m.ctx(ctx), m.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("discover sign-in provider %s: %w: %w", m.cfg.Issuer, ErrSignInProviderUnavailable, err)
	}
	endpoint := p.Endpoint()
	// oauth2 sends client_id in the form and no secret: the credential is added to every token
	// request (clientcredential.go).
	endpoint.AuthStyle = oauth2.AuthStyleInParams
	var meta struct {
		EndSession  string   `json:"end_session_endpoint"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	_ = p.Claims(&meta) // the document parsed already; a missing member stays empty
	secretBasic := false
	if _, secret := m.cfg.ClientCredential.(basicAuthCredential); secret {
		method := clientauth.SecretMethod(m.cfg.ClientAuthMethod, meta.AuthMethods)
		secretBasic = method == clientauth.SecretBasic
		log := m.log.Info
		if len(meta.AuthMethods) > 0 && !slices.Contains(meta.AuthMethods, method) {
			log = m.log.Warn // forced: the provider may refuse every token request
		}
		log("client secret sent as "+method, "token_endpoint_auth_methods_supported", meta.AuthMethods, "setting", cmp.Or(m.cfg.ClientAuthMethod, clientauth.AutoMethod))
	}
	setTokenEndpoint(m.cfg.HTTPClient, endpoint.TokenURL, secretBasic)
	if m.cfg.SignOutOfProvider && meta.EndSession == "" {
		// A warning, not a failure: sign-in and saving work, and sign-out still ends the app's
		// session. Discovery is lazy, so this shows at the first sign-in or readiness probe.
		m.log.Warn("signing out of the provider is asked for, but its discovery document has no end_session_endpoint: sign-out ends the app's session only", "issuer", m.cfg.Issuer)
	}
	m.oauth = &oauth2.Config{
		ClientID:    m.cfg.ClientID,
		Endpoint:    endpoint,
		RedirectURL: m.cfg.RedirectURL,
		Scopes:      m.cfg.Scopes,
	}
	m.verifier = p.Verifier(&oidc.Config{ClientID: m.cfg.ClientID, Now: m.cfg.Now})
	m.endSession = meta.EndSession
	return m.oauth, m.verifier, nil
}

// readinessCacheFor is how long a readiness answer is reused: probes every few seconds from
// each replica then cost the provider one discovery request per interval at most.
const readinessCacheFor = 5 * time.Second

// Ready reports whether the sign-in provider's discovery document can be had now. It fetches
// the document again (at most every readinessCacheFor), so a provider that went away is noticed.
func (m *Manager) Ready(ctx context.Context) error {
	m.mu.Lock()
	if m.cfg.Now().Sub(m.checkedAt) < readinessCacheFor {
		err := m.checkErr
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	_, err := oidc.NewProvider(m.ctx(ctx), m.cfg.Issuer)
	if err == nil {
		_, _, err = m.discover(ctx)
	}
	m.mu.Lock()
	m.checkedAt, m.checkErr = m.cfg.Now(), err
	m.mu.Unlock()
	return err
}

// FinishSignIn handles the provider's redirect back: it checks the state, exchanges the code with
// the PKCE verifier, verifies the ID token and its nonce, and starts a new session (a new session
// id, so an id planted before sign-in is worthless). It returns where to send the person. On a
// *ProviderError the returned target is still where they were going, for a "try again" link.
func (m *Manager) FinishSignIn(w http.ResponseWriter, r *http.Request) (string, error) {
	q := r.URL.Query()
	p, ok := m.takePending(w, r, q.Get("state"))
	if !ok {
		return m.cfg.BasePath, ErrSignInState
	}
	if code := q.Get("error"); code != "" {
		return p.ReturnTo, &ProviderError{Code: code, Description: q.Get("error_description")}
	}
	code := q.Get("code")
	if code == "" {
		return p.ReturnTo, errors.New("the sign-in provider sent neither a code nor an error")
	}
	oc, verifier, err := m.discover(r.Context())
	if err != nil {
		return p.ReturnTo, err
	}
	ctx := m.ctx(r.Context())
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return p.ReturnTo, fmt.Errorf("exchange code: %w", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return p.ReturnTo, errors.New("the token response has no ID token")
	}
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil {
		return p.ReturnTo, fmt.Errorf("verify ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.Nonce)) != 1 {
		return p.ReturnTo, errors.New("the ID token's nonce does not match this sign-in")
	}
	user, err := userFromToken(idt, tok.AccessToken)
	if err != nil {
		return p.ReturnTo, err
	}
	user.SignedInAt = m.cfg.Now()

	// End any previous session, then start one under a new id.
	if old, err := m.cfg.Store.New(r, sessionCookie); err == nil && !old.IsNew {
		old.Options.MaxAge = -1
		_ = old.Save(r, w)
	}
	s, _ := m.cfg.Store.New(r, sessionCookie)
	s.ID, s.IsNew = "", true
	s.Values = map[any]any{"data": sessionData{User: user, Tokens: fromOAuth(tok, m.cfg.Now())}}
	if err := s.Save(r, w); err != nil {
		return p.ReturnTo, fmt.Errorf("save session: %w", err)
	}
	if err := m.identity.write(w, identityCookie, identity{Owner: user.ownerKey()}); err != nil {
		m.log.Warn("could not remember who signed in on this browser", "err", err)
	}
	m.log.Info("signed in", "user", user.Username, "oid", user.ObjectID, "tid", user.TenantID)
	return p.ReturnTo, nil
}

func userFromToken(idt *oidc.IDToken, accessToken string) (User, error) {
	var c struct {
		Name              string   `json:"name"`
		PreferredUsername string   `json:"preferred_username"`
		UPN               string   `json:"upn"`
		Email             string   `json:"email"`
		OID               string   `json:"oid"`
		TID               string   `json:"tid"`
		AMR               []string `json:"amr"`
		LoginHint         string   `json:"login_hint"`
		WIDs              []string `json:"wids"`
	}
	if err := idt.Claims(&c); err != nil {
		return User{}, fmt.Errorf("read ID token claims: %w", err)
	}
	u := User{Subject: idt.Subject, ObjectID: c.OID, TenantID: c.TID, Name: c.Name,
		Username: cmp.Or(c.PreferredUsername, c.UPN, c.Email), Email: c.Email, AMR: c.AMR, LoginHint: c.LoginHint,
		DirectoryRoles: c.WIDs}
	if u.AMR == nil || u.DirectoryRoles == nil {
		// Entra ID v2 ID tokens often omit amr and wids; its access tokens (JWTs) carry them.
		access := claimsOfJWT(accessToken)
		if u.AMR == nil {
			u.AMR = access.AMR
		}
		if u.DirectoryRoles == nil {
			u.DirectoryRoles = access.WIDs
		}
	}
	u.AMRSaid = u.AMR != nil
	return u, nil
}

// accessClaims are what the app reads of an access token: they only decide what to explain
// before calling Partner Center, which verifies the token itself.
type accessClaims struct {
	AMR  []string `json:"amr"`
	WIDs []string `json:"wids"`
}

// claimsOfJWT reads the claims of a JWT access token without verifying it; none of an opaque one.
func claimsOfJWT(token string) accessClaims {
	var c accessClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c
	}
	_ = json.Unmarshal(payload, &c)
	return c
}

// amrFromJWT is the amr claim of a JWT access token (claimsOfJWT).
func amrFromJWT(token string) []string { return claimsOfJWT(token).AMR }

func fromOAuth(t *oauth2.Token, now time.Time) storedTokens {
	idToken, _ := t.Extra("id_token").(string)
	return storedTokens{Access: t.AccessToken, Refresh: t.RefreshToken, Type: t.TokenType, Expiry: t.Expiry, Obtained: now, IDToken: idToken}
}

// renewedBy is t after a refresh answered with tok: a refresh token or an ID token that the
// answer does not repeat stays as it was (providers need not rotate the one or reissue the other).
func (t storedTokens) renewedBy(tok *oauth2.Token, now time.Time) storedTokens {
	renewed := fromOAuth(tok, now)
	renewed.Refresh = cmp.Or(renewed.Refresh, t.Refresh)
	renewed.IDToken = cmp.Or(renewed.IDToken, t.IDToken)
	return renewed
}

// fresh reports whether the access token can still be used without a refresh: it is renewed
// RefreshMargin before expiry, or after three quarters of its life for short-lived tokens.
func (t storedTokens) fresh(now time.Time, margin time.Duration) bool {
	if t.Expiry.IsZero() {
		return true
	}
	if life := t.Expiry.Sub(t.Obtained); life > 0 && life/4 < margin {
		margin = life / 4
	}
	return now.Add(margin).Before(t.Expiry)
}

func (t storedTokens) oauth() *oauth2.Token {
	return &oauth2.Token{AccessToken: t.Access, RefreshToken: t.Refresh, TokenType: t.Type, Expiry: t.Expiry}
}

// requestSession keeps the session a request has read, so that its several uses (who is signed
// in, the one-time message, the token) read and decode it once. Middleware puts one in each
// request's context.
type requestSession struct {
	read bool
	s    *sessions.Session // nil when not signed in
	err  error             // sessionstore.ErrUnavailable when the store could not be read
}

type requestSessionKey struct{}

// Middleware gives each request its own requestSession.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestSessionKey{}, &requestSession{})))
	})
}

// load returns the request's session, read from the store on first use.
func (m *Manager) load(r *http.Request) (*sessions.Session, sessionData, error) {
	rs, ok := r.Context().Value(requestSessionKey{}).(*requestSession)
	if !ok {
		return m.loadFromStore(r)
	}
	if !rs.read {
		_, _, _ = m.loadFromStore(r)
	}
	if rs.err != nil {
		return nil, sessionData{}, rs.err
	}
	return m.signedIn(rs.s)
}

// loadFromStore reads the session from the store itself, to see what another request (or
// replica) stored meanwhile, and keeps it as the request's session.
func (m *Manager) loadFromStore(r *http.Request) (*sessions.Session, sessionData, error) {
	s, err := m.cfg.Store.New(r, sessionCookie)
	if errors.Is(err, sessionstore.ErrUnavailable) {
		m.rememberFailure(r, err)
		return nil, sessionData{}, err
	}
	if err != nil || s.IsNew {
		s = nil
	}
	m.remember(r, s)
	return m.signedIn(s)
}

func (m *Manager) remember(r *http.Request, s *sessions.Session) {
	if rs, ok := r.Context().Value(requestSessionKey{}).(*requestSession); ok {
		rs.read, rs.s, rs.err = true, s, nil
	}
}

func (m *Manager) rememberFailure(r *http.Request, err error) {
	if rs, ok := r.Context().Value(requestSessionKey{}).(*requestSession); ok {
		rs.read, rs.s, rs.err = true, nil, err
	}
}

// signedIn checks that s is a live session and returns its data.
func (m *Manager) signedIn(s *sessions.Session) (*sessions.Session, sessionData, error) {
	if s == nil {
		return nil, sessionData{}, ErrNotSignedIn
	}
	d, ok := s.Values["data"].(sessionData)
	if !ok || m.cfg.Now().Sub(d.User.SignedInAt) > m.cfg.SessionLifetime {
		return nil, sessionData{}, ErrNotSignedIn
	}
	return s, d, nil
}

// CurrentUser returns the signed-in person, or ErrNotSignedIn.
func (m *Manager) CurrentUser(r *http.Request) (User, error) {
	_, d, err := m.load(r)
	return d.User, err
}

// SignOut ends the session: the session cookie is expired in any case, then the server-side
// session is deleted (sessionstore.ErrNotDeleted when the store did not answer: it is deleted when it
// does). It also forgets who signed in on this browser and anything they typed: the next person
// starts from nothing.
func (m *Manager) SignOut(w http.ResponseWriter, r *http.Request) error {
	m.identity.clear(w, identityCookie)
	m.kept.clear(w, keptCookie)
	if _, err := r.Cookie(flashCookie); err == nil {
		m.flashes.clear(w, flashCookie)
	}
	m.ForgetRoleRefusal(w, r)
	m.remember(r, nil)
	return m.cfg.Store.End(r, w, sessionCookie)
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
