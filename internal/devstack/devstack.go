// Package devstack starts the development stand-ins, the sign-in provider (internal/devidp) and
// the Partner Center emulator (internal/pcemu), each a real HTTP service on a loopback port of
// its own, for `web --dev`, the bench and the tests.
package devstack

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"pcsupport/internal/devidp"
	"pcsupport/internal/devnotify"
	"pcsupport/internal/notify"
	"pcsupport/internal/pcemu"
)

// Client is an application to register with the sign-in provider. One that brings no credential
// of its own (certificate, federated token) gets a secret made at start (see Stack.Secret):
// none is ever written down.
type Client = devidp.Client

// Options say what differs between the users of the stand-ins.
type Options struct {
	Clients             []Client
	AccessTokenLifetime time.Duration    // default devidp's: 1h, as Entra ID issues them
	Personas            []devidp.Persona // default devidp.Personas(); each gets its role in the emulator
	Logger              *slog.Logger     // the emulator's request records and the servers' errors; default discards
	// ProfilesFile, optional, is where the emulator keeps the stored support profiles across
	// restarts (web --dev: in its data directory); "" keeps them in memory.
	ProfilesFile string
	// AppURL, optional, is the app the stand-ins serve: the emulator's page links back to it.
	AppURL string
	// NotifySecret, when set, starts a stand-in receiver of notifications (internal/devnotify)
	// that checks the Standard Webhooks signatures with it.
	NotifySecret notify.Secret
}

// Organizations are the organization profiles of the two dev partners, as Partner Center would
// give them: different countries, so that telephone numbers are checked for the United States
// (Contoso) and for France (Fabrikam).
var Organizations = map[string]pcemu.Organization{
	devidp.TenantID: {CompanyName: "Contoso Partner", Domain: "contoso-partner.example", Country: "US", City: "Redmond",
		Culture: "en-US", Language: "en", Email: "admin@contoso-partner.example"},
	devidp.OtherTenantID: {CompanyName: "Fabrikam Partner", Domain: "fabrikam-partner.example", Country: "FR", City: "Paris",
		Culture: "fr-FR", Language: "fr", Email: "admin@fabrikam-partner.example"},
}

// Stack is the running stand-ins.
type Stack struct {
	Provider    *devidp.Provider
	Emulator    *pcemu.Emulator
	ProviderURL string // the issuer, e.g. http://127.0.0.1:41234
	EmulatorURL string // the Partner Center API base URL

	// Notifications receives the app's notifications with NotifySecret (nil without it), at
	// NotificationsURL: its page lists what came.
	Notifications    *devnotify.Receiver
	NotificationsURL string

	secrets  map[string]string
	provider *http.Server
	emulator *http.Server
	receiver *http.Server
	accepted atomic.Int64 // connections the emulator accepted
}

// Start starts the provider and the emulator; the emulator trusts the provider's signing key
// and gives every persona its Partner Center role. Close stops both.
func Start(opts Options) (*Stack, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Stack{secrets: map[string]string{}}
	providerLn, err := listenLoopback("dev sign-in provider")
	if err != nil {
		return nil, err
	}
	s.ProviderURL = "http://" + providerLn.Addr().String()
	clients := make([]devidp.Client, len(opts.Clients))
	for i, c := range opts.Clients {
		if c.Secret == "" && c.Certificate == nil && c.Federated == nil {
			c.Secret = rand.Text()
			s.secrets[c.ID] = c.Secret
		}
		clients[i] = c
	}
	s.Provider, err = devidp.New(devidp.Options{Issuer: s.ProviderURL, Clients: clients,
		AccessTokenLifetime: opts.AccessTokenLifetime, Personas: opts.Personas})
	if err != nil {
		providerLn.Close()
		return nil, fmt.Errorf("dev sign-in provider: %w", err)
	}
	s.provider = serve(providerLn, s.Provider, log)

	s.Emulator = newEmulator(s.Provider, opts.AppURL, log)
	personas := opts.Personas
	if len(personas) == 0 {
		personas = devidp.Personas()
	}
	for _, p := range personas {
		s.Emulator.AssignRole(p.TenantID, p.ObjectID, p.Role)
		s.Emulator.NamePerson(p.ObjectID, p.Name)
	}
	for id, o := range Organizations {
		s.Emulator.SetOrganization(id, o)
	}
	// The second dev partner has contact details of its own: with the emulator's seed (Contoso's
	// values) anyone trying tenant isolation would take them for a leak.
	s.Emulator.SeedProfile(devidp.OtherTenantID, "support@fabrikam-partner.example", "+44 20 7946 0000", "www.fabrikam-partner.example")
	if opts.ProfilesFile != "" {
		// After the seeds: what was stored in an earlier run wins over them.
		if err := s.Emulator.KeepProfilesIn(opts.ProfilesFile); err != nil {
			s.Close()
			return nil, err
		}
	}
	emulatorLn, err := listenLoopback("Partner Center emulator")
	if err != nil {
		s.Close()
		return nil, err
	}
	s.EmulatorURL = "http://" + emulatorLn.Addr().String()
	s.emulator = serve(&countingListener{Listener: emulatorLn, n: &s.accepted}, s.Emulator, log)
	if !opts.NotifySecret.IsZero() {
		receiverLn, err := listenLoopback("notifications receiver")
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Notifications, s.NotificationsURL = devnotify.New(opts.NotifySecret), "http://"+receiverLn.Addr().String()
		s.receiver = serve(receiverLn, s.Notifications, log)
	}
	return s, nil
}

// newEmulator makes an emulator that accepts the provider's tokens. Rate limiting stays off
// (the emulator's default): every session works for the one dev partner.
func newEmulator(p *devidp.Provider, appURL string, log *slog.Logger) *pcemu.Emulator {
	var keys []crypto.PublicKey
	for _, k := range p.KeySet().Keys {
		keys = append(keys, k.Key)
	}
	return pcemu.New(pcemu.Options{KeySet: &oidc.StaticKeySet{PublicKeys: keys}, Issuers: []string{p.Issuer()},
		Logger: log.With("component", "pcemu"), AppURL: appURL})
}

// Secret is the client secret made at start for the registered client id ("" for another id).
func (s *Stack) Secret(clientID string) string { return s.secrets[clientID] }

// FaultsURL is the emulator's fault injection page.
func (s *Stack) FaultsURL() string { return s.EmulatorURL + "/_emulator/" }

// EmulatorConnections counts the connections the emulator accepted: few when callers reuse them.
func (s *Stack) EmulatorConnections() int64 { return s.accepted.Load() }

// StopProvider closes the sign-in provider at once, as an outage would.
func (s *Stack) StopProvider() { _ = s.provider.Close() }

// StopEmulator closes the emulator at once, as an outage would.
func (s *Stack) StopEmulator() { _ = s.emulator.Close() }

// Close lets requests under way finish (for up to 5 s) and stops both services.
func (s *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range []*http.Server{s.provider, s.emulator, s.receiver} {
		if srv != nil {
			_ = srv.Shutdown(ctx)
		}
	}
}

func listenLoopback(what string) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("%s: listen on loopback: %w", what, err)
	}
	return ln, nil
}

func serve(ln net.Listener, h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("dev stand-in stopped serving", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return srv
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
