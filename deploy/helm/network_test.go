package helm_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// The Ingress: ingress-nginx asks oauth2-proxy first and passes its X-Auth-Request-Email on as
// the very header the app reads (PCS_IDENTITY_HEADER), from proxies the app trusts; the app's
// pages are routed, and no spelling of metrics, healthz or readyz reaches the app.
func TestIngressAuthenticatesAndHidesMetrics(t *testing.T) {
	for _, r := range renders(t) {
		ings := r.ingresses(t)
		if r.name == "example values" && len(ings) == 0 {
			t.Fatalf("%s: no Ingress", r.name)
		}
		if len(ings) == 0 {
			continue
		}
		env := r.deployment(t).app(t).env()
		public, err := url.Parse(env["PCS_PUBLIC_URL"])
		if err != nil || public.Host == "" {
			t.Fatalf("%s: PCS_PUBLIC_URL %q", r.name, env["PCS_PUBLIC_URL"])
		}
		for _, ing := range ings {
			a := ing.Metadata.Annotations
			for _, name := range []string{"auth-url", "auth-signin", "auth-response-headers"} {
				if a["nginx.ingress.kubernetes.io/"+name] == "" {
					t.Errorf("%s: Ingress %s has no nginx.ingress.kubernetes.io/%s", r.name, ing.Metadata.Name, name)
				}
			}
			if h := a["nginx.ingress.kubernetes.io/auth-response-headers"]; !strings.EqualFold(h, env["PCS_IDENTITY_HEADER"]) || h == "" {
				t.Errorf("%s: the Ingress passes on %q from oauth2-proxy, the app reads PCS_IDENTITY_HEADER %q", r.name, h, env["PCS_IDENTITY_HEADER"])
			}
			if !strings.EqualFold(a["nginx.ingress.kubernetes.io/auth-response-headers"], "X-Auth-Request-Email") {
				t.Errorf("%s: oauth2-proxy names the person in X-Auth-Request-Email, the Ingress passes on %q", r.name, a["nginx.ingress.kubernetes.io/auth-response-headers"])
			}
			// Regular-expression paths, rewrites and snippets change how nginx matches paths.
			for k := range a {
				for _, bad := range []string{"use-regex", "rewrite-target", "snippet"} {
					if strings.Contains(k, bad) {
						t.Errorf("%s: Ingress %s has annotation %s", r.name, ing.Metadata.Name, k)
					}
				}
			}
			for _, rule := range ing.Spec.Rules {
				if rule.Host != public.Hostname() {
					t.Errorf("%s: Ingress rule for host %q; the public URL's is %q", r.name, rule.Host, public.Hostname())
				}
			}
			for _, tls := range ing.Spec.TLS {
				if !slices.Contains(tls.Hosts, public.Hostname()) {
					t.Errorf("%s: TLS hosts %v lack %s", r.name, tls.Hosts, public.Hostname())
				}
			}
		}
		if env["PCS_TRUSTED_PROXIES"] == "" {
			t.Errorf("%s: the app trusts no proxy, so it drops the identity header the Ingress sends", r.name)
		}
		if env["PCS_PROXY_STRIPS_PREFIX"] == "true" {
			t.Errorf("%s: the Ingress passes the prefix on, but the app is told it is stripped", r.name)
		}

		app := r.appService(t)
		base := routePrefix(env)
		for _, p := range []string{base, strings.TrimSuffix(base, "/"), base + "save", base + "history", base + "history.csv",
			base + "auth/callback", base + "static/app.css", base + "metrics/x"} {
			if svc, ok := ingressBackend(ings, public.Hostname(), p); !ok || svc != app.Metadata.Name {
				t.Errorf("%s: %s goes to %q (routed: %v), want the app's Service %s", r.name, p, svc, ok, app.Metadata.Name)
			}
		}
		for _, p := range []string{base + "metrics", base + "healthz", base + "readyz"} {
			svc, ok := ingressBackend(ings, public.Hostname(), p)
			if !ok {
				continue // not routed at all: ingress-nginx's default backend answers 404
			}
			if svc == app.Metadata.Name {
				t.Errorf("%s: the Ingress routes %s to the app", r.name, p)
				continue
			}
			s := r.service(t, svc)
			if s == nil || len(s.Spec.Selector) > 0 {
				t.Errorf("%s: %s goes to Service %q, which is not a Service of the chart without endpoints", r.name, p, svc)
			}
		}
	}
}

// The NetworkPolicy selects the app's pods; lets in only the ingress controller and Prometheus,
// on the app's port; lets out only DNS, HTTPS, and Redis and PostgreSQL when they are used.
func TestNetworkPolicy(t *testing.T) {
	for _, r := range renders(t) {
		var np networkPolicy
		r.one(t, "NetworkPolicy", &np)
		d := r.deployment(t)
		labels := d.Spec.Template.Metadata.Labels
		if !selects(np.Spec.PodSelector, labels) || len(np.Spec.PodSelector.MatchLabels) == 0 {
			t.Errorf("%s: the NetworkPolicy's podSelector %v does not select the app's pods %v", r.name, np.Spec.PodSelector, labels)
		}
		if !slices.Contains(np.Spec.PolicyTypes, "Ingress") || !slices.Contains(np.Spec.PolicyTypes, "Egress") {
			t.Errorf("%s: policyTypes %v", r.name, np.Spec.PolicyTypes)
		}
		values := chartValues(t, r.name)
		wantFrom := []peer{
			{NamespaceSelector: selectorValue(t, values, "networkPolicy.ingressController.namespaceSelector"), PodSelector: selectorValue(t, values, "networkPolicy.ingressController.podSelector")},
			{NamespaceSelector: selectorValue(t, values, "networkPolicy.prometheus.namespaceSelector"), PodSelector: selectorValue(t, values, "networkPolicy.prometheus.podSelector")},
		}
		var from []peer
		for _, rule := range np.Spec.Ingress {
			if len(rule.From) == 0 {
				t.Errorf("%s: an ingress rule without from lets in every pod and address", r.name)
			}
			if len(rule.Ports) == 0 {
				t.Errorf("%s: an ingress rule without ports opens every port", r.name)
			}
			for _, p := range rule.Ports {
				if !(p.Port == "http" || p.Port == float64(8080)) || p.protocol() != "TCP" {
					t.Errorf("%s: ingress allowed on %v/%s, not the app's port", r.name, p.Port, p.protocol())
				}
			}
			from = append(from, rule.From...)
		}
		if fmt.Sprint(from) != fmt.Sprint(wantFrom) {
			t.Errorf("%s: ingress from %v, want the ingress controller and Prometheus %v", r.name, from, wantFrom)
		}
		for _, p := range from {
			if p.IPBlock != nil || p.NamespaceSelector == nil || p.PodSelector == nil || p.NamespaceSelector.empty() || p.PodSelector.empty() {
				t.Errorf("%s: ingress peer %v is wider than one namespace's pods", r.name, p)
			}
		}

		env := d.app(t).env()
		want := map[string][]string{ // what each egress rule is for: its ports
			"dns":   {"53/UDP", "53/TCP"},
			"https": {"443/TCP"},
		}
		if env["PCS_SESSION_STORE"] == "redis" {
			want["redis"] = portList(values, "networkPolicy.redis.ports")
		}
		if env["PCS_DATABASE_URL_FILE"] != "" {
			want["postgresql"] = portList(values, "networkPolicy.postgresql.ports")
		}
		got := map[string][]string{}
		for _, rule := range np.Spec.Egress {
			if len(rule.To) == 0 || len(rule.Ports) == 0 {
				t.Errorf("%s: egress rule %+v opens every destination or every port", r.name, rule)
				continue
			}
			var ports []string
			for _, p := range rule.Ports {
				ports = append(ports, fmt.Sprintf("%v/%s", p.Port, p.protocol()))
			}
			kind := "other"
			switch {
			case slices.Equal(ports, want["dns"]):
				kind = "dns"
				dns := peer{NamespaceSelector: selectorValue(t, values, "networkPolicy.dns.namespaceSelector"), PodSelector: selectorValue(t, values, "networkPolicy.dns.podSelector")}
				if fmt.Sprint(rule.To) != fmt.Sprint([]peer{dns}) {
					t.Errorf("%s: DNS goes to %v, want the cluster's resolver %v", r.name, rule.To, dns)
				}
			case slices.Equal(ports, want["https"]):
				kind = "https"
				for _, p := range rule.To {
					if p.IPBlock == nil || p.PodSelector != nil || p.NamespaceSelector != nil {
						t.Errorf("%s: HTTPS egress to %v: want address blocks (Entra ID, Partner Center)", r.name, p)
					}
				}
			case want["redis"] != nil && slices.Equal(ports, want["redis"]) && fmt.Sprint(rule.To) == fmt.Sprint(peersValue(t, values, "networkPolicy.redis.to")):
				kind = "redis"
			case want["postgresql"] != nil && slices.Equal(ports, want["postgresql"]) && fmt.Sprint(rule.To) == fmt.Sprint(peersValue(t, values, "networkPolicy.postgresql.to")):
				kind = "postgresql"
			}
			for _, p := range rule.To {
				if p.empty() {
					t.Errorf("%s: egress rule %s has an empty peer: every destination", r.name, kind)
				}
			}
			if _, dup := got[kind]; dup || kind == "other" {
				t.Errorf("%s: egress rule to %v on %v is none of DNS, HTTPS, Redis, PostgreSQL (or repeats one)", r.name, rule.To, ports)
			}
			got[kind] = ports
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: egress rules %v, want %v", r.name, got, want)
		}
	}
}

// ingressBackend is the Service the Ingresses send a request for host and p to, by the
// Ingress API's rules (which ingress-nginx implements as exact and prefix locations): an Exact
// path equal to p wins; otherwise the longest Prefix path whose elements begin p's.
func ingressBackend(ings []ingress, host, p string) (string, bool) {
	best, bestLen, exact := "", -1, false
	for _, ing := range ings {
		for _, rule := range ing.Spec.Rules {
			if rule.Host != "" && rule.Host != host {
				continue
			}
			for _, hp := range rule.HTTP.Paths {
				svc := hp.Backend.Service.Name
				switch hp.PathType {
				case "Exact":
					if hp.Path == p {
						best, exact = svc, true
					}
				case "Prefix":
					rp := strings.TrimSuffix(hp.Path, "/")
					if !exact && (rp == "" || p == rp || strings.HasPrefix(p, rp+"/")) && len(rp) > bestLen {
						best, bestLen = svc, len(rp)
					}
				default: // ImplementationSpecific: ingress-nginx may read it as a regular expression
					return "pathType " + hp.PathType, true
				}
			}
		}
	}
	return best, exact || bestLen >= 0
}
