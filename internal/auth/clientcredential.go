package auth

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// ClientCredential proves the app's identity in a token request: a secret, or a signed client
// assertion (see internal/clientauth, which decides which one once, from the configuration).
type ClientCredential interface {
	// AddTo sets the client authentication parameters on the form of a token request bound for
	// tokenEndpoint.
	AddTo(form url.Values, tokenEndpoint string) error
}

// basicAuthCredential is a credential that can travel in the Authorization header instead of
// the form: a client secret (client_secret_basic).
type basicAuthCredential interface {
	BasicAuth(clientID string) string
}

// tokenRequests adds the client credential to the POSTs bound for the discovered token endpoint.
// golang.org/x/oauth2 still makes the code exchange and the refresh grant and reads the answers
// (its *oauth2.RetrieveError is how a refused refresh token is told), while the credential,
// whichever it is, is applied in this one place to both grants, a fresh assertion each time.
type tokenRequests struct {
	base       http.RoundTripper
	clientID   string
	credential ClientCredential
	endpoint   atomic.Pointer[tokenEndpoint] // set by discovery; until then nothing is a token request
}

// tokenEndpoint is where token requests go, and whether a secret goes in their Authorization
// header (client_secret_basic) rather than in their form (client_secret_post).
type tokenEndpoint struct {
	url         string
	secretBasic bool
}

// withClientCredential returns a copy of client whose token requests carry the credential of
// clientID.
func withClientCredential(client *http.Client, clientID string, credential ClientCredential) *http.Client {
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *client
	c.Transport = &tokenRequests{base: base, clientID: clientID, credential: credential}
	return &c
}

// setTokenEndpoint tells the client's token requests where the token endpoint is and how a
// secret travels there.
func setTokenEndpoint(client *http.Client, endpoint string, secretBasic bool) {
	if t, ok := client.Transport.(*tokenRequests); ok {
		t.endpoint.Store(&tokenEndpoint{url: endpoint, secretBasic: secretBasic})
	}
}

func (t *tokenRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint := t.endpoint.Load()
	if req.Method != http.MethodPost || req.Body == nil || endpoint == nil || !sameURL(req.URL, endpoint.url) {
		return t.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read token request: %w", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("read token request: %w", err)
	}
	out := req.Clone(req.Context())
	if secret, ok := t.credential.(basicAuthCredential); ok && endpoint.secretBasic {
		// The header names the client; the form does not name it again, as with oauth2's own
		// client_secret_basic.
		form.Del("client_id")
		out.Header.Set("Authorization", secret.BasicAuth(t.clientID))
	} else if err := t.credential.AddTo(form, endpoint.url); err != nil {
		return nil, fmt.Errorf("client credential: %w", err)
	}
	encoded := form.Encode()
	out.Body = io.NopCloser(strings.NewReader(encoded))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(encoded)), nil }
	out.ContentLength = int64(len(encoded))
	return t.base.RoundTrip(out)
}

// sameURL compares a request's URL with the token endpoint, ignoring any query.
func sameURL(u *url.URL, endpoint string) bool {
	e, err := url.Parse(endpoint)
	return err == nil && strings.EqualFold(u.Scheme, e.Scheme) && strings.EqualFold(u.Host, e.Host) && u.Path == e.Path
}
