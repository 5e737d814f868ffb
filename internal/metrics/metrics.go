// Package metrics counts what operators of the app watch, in the Prometheus format and on a
// registry of its own: requests by route, Partner Center calls, sign-ins, token refreshes and
// saves, each by outcome, and failed writes of the change history.
package metrics

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcomes of a sign-in (the provider's redirect back to the app).
const (
	SignInSucceeded = "success"
	SignInRefused   = "refused" // the provider sent an error: cancelled, consent missing, conditional access...
	SignInExpired   = "expired" // unknown, expired or replayed state
	SignInFailed    = "failed"  // the code exchange or the ID token check failed
)

// Outcomes of a refresh grant at the token endpoint.
const (
	refreshSuccess = "success" // a new access token
	refreshRefused = "refused" // the refresh token was refused (400/401): the person signs in again
	refreshError   = "error"   // the token endpoint failed or could not be reached
)

const (
	callError     = "error" // status label of a Partner Center call that got no HTTP answer
	opOther       = "other" // a Partner Center path this app does not call
	pcProfilePath = "/v1/profiles/support"
	pcOrgPath     = "/v1/profiles/organization"
)

// Metrics holds the app's collectors. Build it with New; it is safe for concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	pcCalls   *prometheus.HistogramVec
	signIns   *prometheus.CounterVec
	refreshes *prometheus.CounterVec
	saves     *prometheus.CounterVec
	history   *prometheus.CounterVec
	notices   *prometheus.CounterVec
}

// What a failed history write was recording (the label of HistoryWriteFailed).
const (
	HistorySave    = "save"    // a save made through the app
	HistoryObserve = "observe" // the values a Partner Center read found (a baseline or an outside change)
)

// New registers the app's collectors, and the Go runtime's and the process's, on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pcsupport_http_request_duration_seconds",
			Help: "Requests answered, by route (the router's pattern, not the URL), method and status, with their durations.",
		}, []string{"route", "method", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pcsupport_http_requests_in_flight",
			Help: "Requests being answered now.",
		}),
		pcCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pcsupport_partner_center_request_duration_seconds",
			Help:    "HTTP requests to Partner Center (each retry counts), by operation and status (\"error\" when no answer came), with the time to the answer's headers.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30},
		}, []string{"operation", "status"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pcsupport_sign_ins_total",
			Help: "Sign-ins finished (the provider's redirect back), by outcome: success, refused (by the provider or the person), expired (state unknown, expired or used), failed.",
		}, []string{"outcome"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pcsupport_token_refreshes_total",
			Help: "Access-token refreshes at the sign-in provider's token endpoint, by outcome: success, refused (the person must sign in again), error.",
		}, []string{"outcome"}),
		saves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pcsupport_saves_total",
			Help: "Support profile save attempts, by outcome (saved, unchanged, invalid, conflict, refused, ...), as in the audit trail.",
		}, []string{"outcome"}),
		history: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pcsupport_history_write_failures_total",
			Help: "Change history entries that could not be written, by what they recorded: save (a save made here; the audit log still has it) or observe (values read from Partner Center).",
		}, []string{"write"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pcsupport_notification_attempts_total",
			Help: "Attempts to deliver a notification of a change to a receiver, by its format (standard, teams, slack) and outcome: delivered, retry (failed, will be tried again), gave_up.",
		}, []string{"format", "outcome"}),
	}
	m.reg.MustRegister(m.requests, m.inFlight, m.pcCalls, m.signIns, m.refreshes, m.saves, m.history, m.notices,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Known outcomes show as 0 before the first event, so rates and alerts work from the start.
	for _, o := range []string{SignInSucceeded, SignInRefused, SignInExpired, SignInFailed} {
		m.signIns.WithLabelValues(o)
	}
	for _, format := range []string{"standard", "teams", "slack"} {
		for _, outcome := range []string{"delivered", "retry", "gave_up"} {
			m.notices.WithLabelValues(format, outcome)
		}
	}
	for _, o := range []string{refreshSuccess, refreshRefused, refreshError} {
		m.refreshes.WithLabelValues(o)
	}
	for _, w := range []string{HistorySave, HistoryObserve} {
		m.history.WithLabelValues(w)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// RequestStarted counts a request in flight until the returned func is called.
func (m *Metrics) RequestStarted() (done func()) {
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// ObserveRequest records one answered request. route must be the router's pattern (bounded),
// never the raw URL; the method is counted as it came only when it is a standard one.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, methodLabel(method), strconv.Itoa(status)).Observe(d.Seconds())
}

// methodLabel keeps the method label within a closed set: anyone can send any token as the
// method, and every distinct label value is a new series kept for the life of the process.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// SignIn counts a finished sign-in by outcome (one of the SignIn constants).
func (m *Metrics) SignIn(outcome string) { m.signIns.WithLabelValues(outcome).Inc() }

// Save counts a save attempt by outcome.
func (m *Metrics) Save(outcome string) { m.saves.WithLabelValues(outcome).Inc() }

// NotificationAttempt counts one attempt to deliver a notification (notify.Observer).
func (m *Metrics) NotificationAttempt(format, outcome string) {
	m.notices.WithLabelValues(format, outcome).Inc()
}

// HistoryWriteFailed counts a change history write that failed; write is HistorySave or
// HistoryObserve (anything else counts as observe, keeping the label's values closed).
func (m *Metrics) HistoryWriteFailed(write string) {
	if write != HistorySave {
		write = HistoryObserve
	}
	m.history.WithLabelValues(write).Inc()
}

// PartnerCenterTransport times every request to Partner Center that goes through next.
func (m *Metrics) PartnerCenterTransport(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := next.RoundTrip(r)
		status := callError
		if err == nil {
			status = strconv.Itoa(resp.StatusCode)
		}
		m.pcCalls.WithLabelValues(pcOperation(r), status).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

// pcOperation names the Partner Center call from its method and path.
func pcOperation(r *http.Request) string {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(path, pcProfilePath) && r.Method == http.MethodGet:
		return "get_support_profile"
	case strings.HasSuffix(path, pcProfilePath) && r.Method == http.MethodPut:
		return "update_support_profile"
	case strings.HasSuffix(path, pcOrgPath) && r.Method == http.MethodGet:
		// Apart from the support profile's, so that its background reads never blur how the
		// pages' own calls fare.
		return "get_organization_profile"
	}
	return opOther
}

// TokenEndpointTransport counts the refresh grants that go through next (the sign-in
// provider's client: discovery, keys, code exchange and refreshes), by outcome. The refresh
// happens inside the sign-in package; its token endpoint is where its outcome shows.
func (m *Metrics) TokenEndpointTransport(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if grantType(r) != "refresh_token" {
			return next.RoundTrip(r)
		}
		resp, err := next.RoundTrip(r)
		switch {
		case err != nil:
			m.refreshes.WithLabelValues(refreshError).Inc()
		case resp.StatusCode < 300:
			m.refreshes.WithLabelValues(refreshSuccess).Inc()
		case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized:
			m.refreshes.WithLabelValues(refreshRefused).Inc()
		default:
			m.refreshes.WithLabelValues(refreshError).Inc()
		}
		return resp, err
	})
}

// grantType reads an OAuth token request's grant_type from a copy of its form body.
func grantType(r *http.Request) string {
	if r.Method != http.MethodPost || r.GetBody == nil {
		return ""
	}
	body, err := r.GetBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 64<<10))
	if err != nil {
		return ""
	}
	v, _ := url.ParseQuery(string(b))
	return v.Get("grant_type")
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
