// Package pcclient is the HTTP client of the Partner Center profile API: it reads and replaces
// the support profile, reads the organization profile, retries what is safe to retry and reports
// every failure as one typed *Error.
package pcclient

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"
)

const (
	// supportProfilePath serves both GET and PUT; see docs/partner-center.md for why not /supportprofile.
	supportProfilePath      = "/v1/profiles/support"
	organizationProfilePath = "/v1/profiles/organization"

	opGet             = "get support profile"
	opUpdate          = "update support profile"
	opGetOrganization = "get organization profile"

	defaultTimeout           = 30 * time.Second
	defaultMaxResponseBytes  = 1 << 20
	defaultMaxRetryAfterWait = 5 * time.Second
	defaultMaxAttempts       = 3
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	BaseURL           string                          // e.g. https://api.partnercenter.microsoft.com (no trailing /v1)
	HTTPClient        *http.Client                    // transport only (no auth); nil = a client with sane transport timeouts
	Timeout           time.Duration                   // deadline for one whole call incl. retries; default 30s
	MaxResponseBytes  int64                           // default 1 MiB; a larger body is an error (KindBadResponse)
	MaxRetryAfterWait time.Duration                   // a 429 whose Retry-After is <= this is waited out and retried; default 5s; negative = never wait
	MaxAttempts       int                             // default 3 (for 408, 500, 502, 503, 504, transport errors)
	Backoff           func(attempt int) time.Duration // default (2^n - 1)/2 s, n = attempt number starting 1
	ApplicationName   string                          // MS-PartnerCenter-Application header when non-empty
	Logger            *slog.Logger                    // nil = slog.Default()
}

// Client calls the Partner Center profile API. It is safe for concurrent use.
type Client struct {
	endpoint          resource // the support profile
	organization      resource // the organization profile
	http              *http.Client
	timeout           time.Duration
	maxBytes          int64
	maxRetryAfterWait time.Duration
	maxAttempts       int
	backoff           func(attempt int) time.Duration
	appName           string
	log               *slog.Logger
	// wait sleeps between attempts; tests replace it to record waits without spending them.
	wait func(ctx context.Context, d time.Duration) error
}

// CallOptions are per call. The caller usually sets CorrelationID and RequestID so it knows them
// for logs and messages even when the call fails; when empty the client generates GUIDs.
type CallOptions struct {
	Token         oauth2.TokenSource // required; Token() is called per attempt (it may refresh)
	Locale        string             // X-Locale, e.g. "en-US" or "fr-FR"; omitted when empty
	CorrelationID string
	RequestID     string
}

// resource is one URL of the API.
type resource struct {
	url  string
	path string // url's path, for logs
}

func newResource(base, path string) resource {
	u, _ := url.Parse(base + path) // base was parsed by checkBaseURL
	return resource{url: base + path, path: u.Path}
}

// callIDs are the identifiers sent with every attempt of one call.
type callIDs struct {
	correlation string
	request     string
}

// New returns a Client for the API at cfg.BaseURL.
func New(cfg Config) (*Client, error) {
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("pcclient: Timeout %s is negative", cfg.Timeout)
	case cfg.MaxResponseBytes < 0:
		return nil, fmt.Errorf("pcclient: MaxResponseBytes %d is negative", cfg.MaxResponseBytes)
	case cfg.MaxAttempts < 0:
		return nil, fmt.Errorf("pcclient: MaxAttempts %d is negative", cfg.MaxAttempts)
	case !validHeaderValue(cfg.ApplicationName):
		return nil, fmt.Errorf("pcclient: ApplicationName %q is not a valid header value", cfg.ApplicationName)
	}
	c := &Client{
		endpoint:          newResource(base, supportProfilePath),
		organization:      newResource(base, organizationProfilePath),
		http:              cfg.HTTPClient,
		timeout:           cfg.Timeout,
		maxBytes:          cfg.MaxResponseBytes,
		maxRetryAfterWait: cfg.MaxRetryAfterWait,
		maxAttempts:       cfg.MaxAttempts,
		backoff:           cfg.Backoff,
		appName:           cfg.ApplicationName,
		log:               cfg.Logger,
		wait:              sleep,
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	if c.timeout == 0 {
		c.timeout = defaultTimeout
	}
	if c.maxBytes == 0 {
		c.maxBytes = defaultMaxResponseBytes
	}
	if c.maxBytes == math.MaxInt64 {
		c.maxBytes-- // room for the extra byte that detects an oversize body
	}
	if c.maxRetryAfterWait == 0 {
		c.maxRetryAfterWait = defaultMaxRetryAfterWait
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = defaultMaxAttempts
	}
	if c.backoff == nil {
		c.backoff = defaultBackoff
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// checkBaseURL checks the base URL and returns it without a trailing slash, keeping any path
// prefix (a reverse proxy or the emulator mounted under a prefix): the resource paths follow it.
func checkBaseURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("pcclient: BaseURL: %w", err)
	}
	switch {
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", fmt.Errorf("pcclient: BaseURL %q is not an absolute http or https URL", base)
	case u.User != nil:
		// Credentials in the URL would end up in logs and error messages.
		return "", fmt.Errorf("pcclient: BaseURL must not contain user information")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("pcclient: BaseURL %q must not have a query or fragment", base)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	if strings.HasSuffix(strings.ToLower(u.Path), "/v1") {
		return "", fmt.Errorf("pcclient: BaseURL %q must not end in /v1: the client adds it", base)
	}
	return u.String(), nil
}

// defaultHTTPClient bounds each phase of an attempt so a stuck server costs one attempt, not the
// whole call deadline.
func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// defaultBackoff is the official SDK's (2^n - 1)/2 seconds: 0.5 s, 1.5 s, 3.5 s, ...
func defaultBackoff(attempt int) time.Duration {
	n := min(max(attempt, 1), 20)
	return time.Duration((1<<n)-1) * time.Second / 2
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// NewID returns a new GUID string, the form Partner Center expects in MS-RequestId and
// MS-CorrelationId.
func NewID() string {
	return uuid.NewString()
}

// GetSupportProfile reads the partner's support profile.
func (c *Client) GetSupportProfile(ctx context.Context, o CallOptions) (Profile, error) {
	var p Profile
	err := c.call(ctx, http.MethodGet, opGet, c.endpoint, o, nil, func(body []byte) (err error) {
		p, err = decodeProfile(body)
		return err
	})
	if err != nil {
		return Profile{}, err
	}
	return p, nil
}

// GetOrganizationProfile reads the partner's organization profile: the company's name, domain
// and country, as Partner Center knows them.
func (c *Client) GetOrganizationProfile(ctx context.Context, o CallOptions) (OrganizationProfile, error) {
	var p OrganizationProfile
	err := c.call(ctx, http.MethodGet, opGetOrganization, c.organization, o, nil, func(body []byte) (err error) {
		p, err = decodeOrganizationProfile(body)
		return err
	})
	if err != nil {
		return OrganizationProfile{}, err
	}
	return p, nil
}

// UpdateSupportProfile replaces the support profile with p and returns the profile as stored.
// Partner Center is last-writer-wins: protection against lost updates is the caller's job.
func (c *Client) UpdateSupportProfile(ctx context.Context, o CallOptions, p Profile) (Profile, error) {
	// Not json.Marshal: it would re-escape <, > and & inside the kept members.
	body, err := p.MarshalJSON()
	if err != nil {
		return Profile{}, fmt.Errorf("%s: encode profile: %w", opUpdate, err)
	}
	var stored Profile
	err = c.call(ctx, http.MethodPut, opUpdate, c.endpoint, o, body, func(b []byte) (err error) {
		stored, err = decodeProfile(b)
		return err
	})
	var pe *Error
	if errors.As(err, &pe) && pe.Kind == KindBadResponse && isSuccess(pe.Status) && errors.Is(pe.Err, errEmptyBody) {
		// Some gateways and stand-ins answer a PUT with 204 or an empty 200: the update was
		// accepted, so what was sent is what is stored.
		return p, nil
	}
	if err != nil {
		return Profile{}, err
	}
	return stored, nil
}

// call runs the attempts of one call to r under one deadline, with the same identifiers
// throughout so the service can recognise a retried PUT. decode reads a success body; an error
// it returns makes the answer a bad response.
func (c *Client) call(ctx context.Context, method, op string, r resource, o CallOptions, body []byte, decode func([]byte) error) error {
	if o.Token == nil {
		return fmt.Errorf("%s: no token source", op)
	}
	ids := callIDs{correlation: o.CorrelationID, request: o.RequestID}
	if ids.correlation == "" {
		ids.correlation = NewID()
	}
	if ids.request == "" {
		ids.request = NewID()
	}
	for name, v := range map[string]string{"CorrelationID": ids.correlation, "RequestID": ids.request, "Locale": o.Locale} {
		if !validHeaderValue(v) {
			return fmt.Errorf("%s: %s %q is not a valid header value", op, name, v)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, method, op, r, o, ids, body, decode, attempt)
		if err == nil {
			return nil
		}
		var pe *Error
		if !errors.As(err, &pe) || ctx.Err() != nil {
			return err
		}
		wait, ok := c.retryWait(pe, attempt)
		if !ok {
			return pe
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) <= wait {
			// The retry could not finish in time: the last answer says more than a timeout would.
			return pe
		}
		if werr := c.wait(ctx, wait); werr != nil {
			return &Error{
				Op:            op,
				Kind:          contextKind(werr),
				CorrelationID: pe.CorrelationID,
				RequestID:     pe.RequestID,
				Err:           fmt.Errorf("waiting to retry after %s: %w", pe.summary(), werr),
			}
		}
	}
}

// retryWait says whether a failed attempt may be retried and after how long.
func (c *Client) retryWait(e *Error, attempt int) (time.Duration, bool) {
	if attempt >= c.maxAttempts {
		return 0, false
	}
	switch e.Status {
	case 0:
		if e.Kind == KindUnavailable {
			return c.backoff(attempt), true
		}
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return c.backoff(attempt), true
	case http.StatusTooManyRequests:
		if e.retryAfterSet && e.RetryAfter <= c.maxRetryAfterWait {
			return e.RetryAfter, true
		}
	}
	return 0, false
}

// attempt sends one request and decodes its answer.
func (c *Client) attempt(ctx context.Context, method, op string, r resource, o CallOptions, ids callIDs, body []byte, decode func([]byte) error, n int) error {
	start := time.Now()
	tok, err := o.Token.Token()
	switch {
	case err != nil:
	case tok == nil || tok.AccessToken == "":
		err = errors.New("token source returned no access token")
	case !validHeaderValue(tok.AccessToken):
		// Caught here, or the transport would refuse it on every attempt.
		err = errors.New("access token is not a valid header value")
	}
	if err != nil {
		// Not an *Error: the caller's own sentinel errors (sign in again) must stay visible.
		err = fmt.Errorf("%s: get token: %w", op, err)
		c.logAttempt(ctx, method, op, r, n, ids, nil, err, time.Since(start))
		return err
	}

	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url, rd)
	if err != nil {
		return fmt.Errorf("%s: build request: %w", op, err)
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+tok.AccessToken)
	h.Set("Accept", "application/json")
	h.Set("MS-RequestId", ids.request)
	h.Set("MS-CorrelationId", ids.correlation)
	h.Set("MS-Contract-Version", "v1")
	if o.Locale != "" {
		h.Set("X-Locale", o.Locale)
	}
	if c.appName != "" {
		h.Set("MS-PartnerCenter-Application", c.appName)
	}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		e := transportError(ctx, op, ids, err)
		c.logAttempt(ctx, method, op, r, n, ids, nil, e, time.Since(start))
		return e
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))

	var e *Error
	switch {
	case readErr != nil && (ctx.Err() != nil || isSuccess(resp.StatusCode)):
		// A body cut off in transit is a transport failure, worth a retry, not a bad response.
		e = transportError(ctx, op, ids, fmt.Errorf("read body of HTTP %d: %w", resp.StatusCode, readErr))
	case readErr != nil:
		e = readResponse(op, resp.StatusCode, resp.Header, nil, c.maxBytes, ids, decode)
		e.Err = fmt.Errorf("read error body: %w", readErr)
	default:
		e = readResponse(op, resp.StatusCode, resp.Header, data, c.maxBytes, ids, decode)
	}
	if e != nil {
		c.logAttempt(ctx, method, op, r, n, ids, resp, e, time.Since(start))
		return e
	}
	c.logAttempt(ctx, method, op, r, n, ids, resp, nil, time.Since(start))
	return nil
}

// transportError describes an attempt that got no usable response.
func transportError(ctx context.Context, op string, ids callIDs, err error) *Error {
	kind := KindUnavailable
	if cerr := ctx.Err(); cerr != nil {
		kind = contextKind(cerr)
		if !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
	}
	return &Error{Op: op, Kind: kind, CorrelationID: ids.correlation, RequestID: ids.request, Err: err}
}

// contextKind tells a deadline (the service was too slow) from the caller giving up.
func contextKind(err error) Kind {
	if errors.Is(err, context.DeadlineExceeded) {
		return KindUnavailable
	}
	return KindUnknown
}

// logAttempt records one attempt: a failed one at warn, a successful one at debug (every save
// also has its audit record at info). It never sees the request headers, so the token cannot
// leak.
func (c *Client) logAttempt(ctx context.Context, method, op string, r resource, n int, ids callIDs, resp *http.Response, err error, d time.Duration) {
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelWarn
	}
	if !c.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", op),
		slog.String("method", method),
		slog.String("path", r.path),
		slog.Int("attempt", n),
	}
	status, code := 0, ""
	corr, reqID := ids.correlation, ids.request
	var pe *Error
	if errors.As(err, &pe) {
		status, code, corr, reqID = pe.Status, pe.Code, pe.CorrelationID, pe.RequestID
	} else if resp != nil {
		status = resp.StatusCode
		corr = cmp.Or(resp.Header.Get("MS-CorrelationId"), corr)
		reqID = cmp.Or(resp.Header.Get("MS-RequestId"), reqID)
	}
	attrs = append(attrs,
		slog.Int("status", status),
		slog.String("code", code),
		slog.String("correlation_id", corr),
		slog.String("request_id", reqID),
	)
	if resp != nil {
		if cv := resp.Header.Get("MS-CV"); cv != "" {
			attrs = append(attrs, slog.String("ms_cv", cv))
		}
	}
	attrs = append(attrs, slog.Duration("duration", d))
	if err != nil {
		if pe != nil {
			attrs = append(attrs, slog.String("kind", pe.Kind.String()))
		}
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, level, "partner center call", attrs...)
}

func isSuccess(status int) bool { return status >= 200 && status <= 299 }

// validHeaderValue rejects what would make the transport refuse the request on every attempt
// (or split a header): only printable ASCII is allowed.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
