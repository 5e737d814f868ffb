package devidp

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// signInPath is where authorize sends the browser, under the issuer.
const signInPath = "/login"

// signedOutPath is where end_session lands without a post_logout_redirect_uri.
const signedOutPath = "/signed-out"

// Form fields of the sign-in page.
const (
	fieldAuthRequestID = "authRequestID"
	fieldPersona       = "persona"
	fieldCancel        = "cancel"
)

//go:embed signin.html
var pageTemplates string

var pages = template.Must(template.New("").Parse(pageTemplates))

// pageCSS is the pages' only style. It is allowed by its hash, so the pages run under a
// policy that forbids every script and every other style.
const pageCSS = `
body { margin: 0; font: 1rem/1.5 system-ui, sans-serif; color: #1b1b1b; background: #fff; }
main { max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
.notice { padding: .75rem 1rem; border-left: .25rem solid #8a5a00; background: #fff4dc; }
fieldset { border: 1px solid #767676; border-radius: .25rem; padding: 1rem; margin: 1.5rem 0; }
legend { font-weight: 600; padding: 0 .25rem; }
ul { list-style: none; margin: 0; padding: 0; }
li { margin-bottom: 1rem; }
li p { margin: .25rem 0 0; color: #3d3d3d; }
button { font: inherit; font-weight: 600; padding: .5rem 1rem; border: 2px solid #0f4c81; border-radius: .25rem; background: #0f4c81; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #0f4c81; }
button:focus-visible { outline: 3px solid #1b1b1b; outline-offset: 2px; }
`

var pageCSP = "default-src 'none'; style-src 'sha256-" + cssHash() + "'; base-uri 'none'; frame-ancestors 'none'"

func cssHash() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// signInPage is the login UI op hands the browser to: it shows the personas and, when one is
// chosen, marks the auth request signed in and returns to op's authorize callback.
type signInPage struct {
	action      string // absolute URL of the page, under the issuer
	personas    []Persona
	storage     *storage
	authorizer  op.Authorizer // for op's error redirect on Cancel
	callbackURL func(ctx context.Context, authRequestID string) string
	stats       *counters
}

func (p *signInPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		p.show(w, r)
	case http.MethodPost:
		p.choose(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (p *signInPage) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get(fieldAuthRequestID)
	if _, err := p.storage.authRequest(id); err != nil {
		http.Error(w, "This sign-in request is unknown or has expired. Start again from the application.", http.StatusBadRequest)
		return
	}
	render(w, "signin", struct {
		CSS           template.CSS
		Action        string
		AuthRequestID string
		Personas      []Persona
	}{template.CSS(pageCSS), p.action, id, p.personas})
}

func (p *signInPage) choose(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue(fieldAuthRequestID)
	req, err := p.storage.authRequest(id)
	if err != nil {
		http.Error(w, "This sign-in request is unknown or has expired. Start again from the application.", http.StatusBadRequest)
		return
	}
	if r.PostFormValue(fieldCancel) != "" {
		// As Entra ID does when the user backs out: the client gets access_denied with its state.
		_ = p.storage.DeleteAuthRequest(r.Context(), id)
		op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("The user cancelled the sign-in."), p.authorizer)
		return
	}
	key := r.PostFormValue(fieldPersona)
	for _, persona := range p.personas {
		if persona.Key == key {
			if err := p.storage.signIn(id, persona); err != nil {
				http.Error(w, "This sign-in request is unknown or has expired. Start again from the application.", http.StatusBadRequest)
				return
			}
			p.stats.signIns.Add(1)
			http.Redirect(w, r, p.callbackURL(r.Context(), id), http.StatusSeeOther)
			return
		}
	}
	http.Error(w, "Choose one of the listed people.", http.StatusBadRequest)
}

func signedOut(w http.ResponseWriter, _ *http.Request) {
	render(w, "signedout", struct{ CSS template.CSS }{template.CSS(pageCSS)})
}

// render writes a page whole, or a 500 if the template fails.
func render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		slog.Error("devidp: render page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = buf.WriteTo(w)
}
