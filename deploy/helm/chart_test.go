package helm_test

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The chart as operators install it: its defaults, its example (a production setup), and
// variants for what the two leave out.
var cases = []struct {
	name string
	args []string
}{
	{"default values", nil},
	{"example values", []string{"-f", chartDir + "/values-example.yaml"}},
	{"one replica with a certificate, a volume and a prefix the proxy strips", []string{
		"--set", "publicUrl=https://intranet.example.com/tools/pcs",
		"--set", "proxyStripsPrefix=true",
		"--set", "tenantId=11111111-2222-3333-4444-555555555555,clientId=66666666-7777-8888-9999-000000000000",
		"--set", "secrets.clientCertificate.secretName=pcsupport-certificate",
		"--set", "secrets.sessionKeys.secretName=pcsupport-session-keys",
		"--set", "persistence.enabled=true",
		"--set", "extraCACertificates.configMapName=company-ca",
		"--set", "egressProxy.httpsProxy=http://proxy.example.com:3128,egressProxy.noProxy=.svc\\,.cluster.local",
	}},
}

var (
	renderMu    sync.Mutex
	renderCache = map[string]rendered{}
)

// renders renders every case once per test binary.
func renders(t *testing.T) []rendered {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	var out []rendered
	for _, c := range cases {
		r, ok := renderCache[c.name]
		if !ok {
			r = render(t, c.name, c.args...)
			renderCache[c.name] = r
		}
		out = append(out, r)
	}
	return out
}

// Pod Security "restricted" (https://kubernetes.io/docs/concepts/security/pod-security-standards/):
// non-root, no privilege escalation, every capability dropped, the runtime's seccomp profile,
// only the volume types it allows, nothing of the host's; and a read-only root filesystem.
func TestPodsAreRestricted(t *testing.T) {
	allowedVolumes := []string{"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
	for _, r := range renders(t) {
		d := r.deployment(t)
		pod := d.Spec.Template.Spec
		psc := pod.SecurityContext
		if psc == nil || !isTrue(psc.RunAsNonRoot) || psc.SeccompProfile == nil || psc.SeccompProfile.Type != "RuntimeDefault" {
			t.Errorf("%s: the pod's securityContext lacks runAsNonRoot or seccompProfile RuntimeDefault: %+v", r.name, psc)
		}
		if psc != nil && (psc.RunAsUser == nil || *psc.RunAsUser == 0) {
			t.Errorf("%s: the pod runs as root or as the image's user unnamed: %+v", r.name, psc.RunAsUser)
		}
		if pod.HostNetwork || pod.HostPID || pod.HostIPC {
			t.Errorf("%s: the pod shares the host's namespaces", r.name)
		}
		containers := append(slices.Clone(pod.Containers), pod.InitContainers...)
		if len(containers) == 0 {
			t.Fatalf("%s: no containers", r.name)
		}
		for _, c := range containers {
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s: container %s has no securityContext", r.name, c.Name)
				continue
			}
			if !isFalse(sc.AllowPrivilegeEscalation) {
				t.Errorf("%s: container %s: allowPrivilegeEscalation is not false", r.name, c.Name)
			}
			if !isTrue(sc.ReadOnlyRootFilesystem) {
				t.Errorf("%s: container %s: readOnlyRootFilesystem is not true", r.name, c.Name)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				t.Errorf("%s: container %s: capabilities do not drop ALL (or add some): %+v", r.name, c.Name, sc.Capabilities)
			}
			if isTrue(sc.Privileged) {
				t.Errorf("%s: container %s is privileged", r.name, c.Name)
			}
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot || sc.RunAsUser != nil && *sc.RunAsUser == 0 {
				t.Errorf("%s: container %s may run as root", r.name, c.Name)
			}
			if sc.SeccompProfile != nil && sc.SeccompProfile.Type != "RuntimeDefault" && sc.SeccompProfile.Type != "Localhost" {
				t.Errorf("%s: container %s: seccomp profile %s", r.name, c.Name, sc.SeccompProfile.Type)
			}
			for _, p := range c.Ports {
				if p.HostPort != 0 {
					t.Errorf("%s: container %s uses host port %d", r.name, c.Name, p.HostPort)
				}
			}
		}
		for _, v := range d.volumes(t) {
			for kind := range v {
				if kind != "name" && !slices.Contains(allowedVolumes, kind) {
					t.Errorf("%s: volume %v is of kind %s, which the restricted standard refuses", r.name, v["name"], kind)
				}
			}
		}
	}
}

// The root filesystem is read-only, so the data directory and /tmp are volumes of their own.
func TestAppHasWritableDataAndTmp(t *testing.T) {
	for _, r := range renders(t) {
		d := r.deployment(t)
		c := d.app(t)
		env := c.env()
		dataDir := env["PCS_DATA_DIR"]
		if dataDir == "" {
			dataDir = "/data" // the image's ENV
		}
		for _, dir := range []string{dataDir, "/tmp"} {
			m, ok := c.mountAt(dir)
			if !ok || m.ReadOnly {
				t.Errorf("%s: %s is not a writable mount", r.name, dir)
				continue
			}
			v := d.volume(t, m.Name)
			if v["emptyDir"] == nil && v["persistentVolumeClaim"] == nil {
				t.Errorf("%s: %s is mounted from %v, not an emptyDir or a volume claim", r.name, dir, v)
			}
		}
	}
}

// Liveness asks healthz, readiness readyz, both on the container's port and under the prefix
// the app mounts its routes at (the public URL's path, or / when the proxy strips it).
func TestProbesFollowTheRoutePrefix(t *testing.T) {
	want := map[string]string{
		"default values": "/",
		"example values": "/partner/support/",
		"one replica with a certificate, a volume and a prefix the proxy strips": "/",
	}
	for _, r := range renders(t) {
		c := r.deployment(t).app(t)
		prefix := routePrefix(c.env())
		if prefix != want[r.name] {
			t.Errorf("%s: the app's routes are at %s, want %s", r.name, prefix, want[r.name])
		}
		probes := []struct {
			name string
			p    *probe
			path string
		}{{"liveness", c.LivenessProbe, "healthz"}, {"readiness", c.ReadinessProbe, "readyz"}, {"startup", c.StartupProbe, "healthz"}}
		for _, p := range probes {
			if p.p == nil || p.p.HTTPGet == nil {
				t.Errorf("%s: no %s probe over HTTP", r.name, p.name)
				continue
			}
			if p.p.HTTPGet.Path != prefix+p.path {
				t.Errorf("%s: %s probe asks %s, want %s", r.name, p.name, p.p.HTTPGet.Path, prefix+p.path)
			}
			if !c.hasPort(p.p.HTTPGet.Port, 8080) {
				t.Errorf("%s: %s probe asks port %v, not the app's 8080", r.name, p.name, p.p.HTTPGet.Port)
			}
		}
		if rp := c.ReadinessProbe; rp != nil && rp.TimeoutSeconds <= 5 {
			t.Errorf("%s: readiness times out after %d s; readyz may take 5 s to answer", r.name, rp.TimeoutSeconds)
		}
		if env := c.env(); env["PCS_LISTEN"] != ":8080" {
			t.Errorf("%s: PCS_LISTEN = %q, want :8080 (the port the probes and the Service use)", r.name, env["PCS_LISTEN"])
		}
	}
}

// Stopping lets requests in flight finish: 2 x PCS_PC_TIMEOUT (30 s) + 10 s, and the preStop
// pause, within the grace period.
func TestGracePeriodCoversTheAppsShutdown(t *testing.T) {
	for _, r := range renders(t) {
		pod := r.deployment(t).Spec.Template.Spec
		pause := 0
		for _, c := range pod.Containers {
			if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
				pause = c.Lifecycle.PreStop.Sleep.Seconds
			}
		}
		if pod.TerminationGracePeriodSeconds < 2*30+10+pause {
			t.Errorf("%s: terminationGracePeriodSeconds %d < 70 s + preStop %d s", r.name, pod.TerminationGracePeriodSeconds, pause)
		}
	}
}

// Secrets reach the app only as files: every PCS_*_FILE names a file of a read-only mount of the
// Secret (or projected token) volume that holds it, and no variable takes a value from a Secret.
func TestSecretsAreMountedFilesNeverEnvironment(t *testing.T) {
	secretSettings := []string{"PCS_SESSION_KEYS", "PCS_REDIS_URL", "PCS_DATABASE_URL", "PCS_CLIENT_SECRET", "PCS_NOTIFY_WEBHOOKS", "PCS_NOTIFY_SECRET"}
	for _, r := range renders(t) {
		d := r.deployment(t)
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom["secretKeyRef"] != nil {
					t.Errorf("%s: %s takes a Secret's value into the environment", r.name, e.Name)
				}
				if slices.Contains(secretSettings, e.Name) {
					t.Errorf("%s: %s is set in the environment; use %s_FILE", r.name, e.Name, e.Name)
				}
			}
			for _, ef := range c.EnvFrom {
				if ef["secretRef"] != nil {
					t.Errorf("%s: envFrom a Secret puts its contents in the environment", r.name)
				}
			}
		}
		c := d.app(t)
		env := c.env()
		if env["PCS_SESSION_KEYS_FILE"] == "" {
			t.Errorf("%s: no PCS_SESSION_KEYS_FILE", r.name)
		}
		for name, file := range env {
			if !strings.HasSuffix(name, "_FILE") {
				continue
			}
			m, ok := c.mountHolding(file)
			if !ok {
				t.Errorf("%s: %s=%s is in no mounted volume", r.name, name, file)
				continue
			}
			if !m.ReadOnly {
				t.Errorf("%s: %s's volume %s is mounted writable", r.name, name, m.Name)
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(file, m.MountPath), "/")
			if !d.volumeHoldsFile(t, m.Name, rel) {
				t.Errorf("%s: %s=%s: volume %s is no Secret or projected token with the item %s", r.name, name, file, m.Name, rel)
			}
		}
	}
}

// Every PCS_ variable the chart sets is a setting of the app (a misspelt one would be ignored).
func TestEnvironmentNamesAreSettings(t *testing.T) {
	settings := appSettings()
	for _, r := range renders(t) {
		for name := range r.deployment(t).app(t).env() {
			if strings.HasPrefix(name, "PCS_") && !settings[name] {
				t.Errorf("%s: %s is not a setting of the app", r.name, name)
			}
		}
	}
}

// With workload identity the pods carry the webhook's label and the service account names the
// app registration's client id, the same the app is told; the pod runs under that account.
func TestWorkloadIdentity(t *testing.T) {
	for _, r := range renders(t) {
		d := r.deployment(t)
		pod := d.Spec.Template
		uses := pod.Metadata.Labels["azure.workload.identity/use"] == "true"
		if r.name == "example values" && !uses {
			t.Errorf("%s: the pods are not labelled azure.workload.identity/use: \"true\"", r.name)
		}
		if isTrue(pod.Spec.AutomountServiceAccountToken) || pod.Spec.AutomountServiceAccountToken == nil {
			t.Errorf("%s: the Kubernetes API token is mounted into a pod that never calls the API", r.name)
		}
		if !uses {
			continue
		}
		var sa object
		for _, o := range r.all("ServiceAccount") {
			if o.Metadata.Name == pod.Spec.ServiceAccountName {
				sa = o
			}
		}
		clientID := sa.Metadata.Annotations["azure.workload.identity/client-id"]
		if clientID == "" || clientID != d.app(t).env()["PCS_CLIENT_ID"] {
			t.Errorf("%s: service account %q annotated with client id %q; the app has PCS_CLIENT_ID %q",
				r.name, pod.Spec.ServiceAccountName, clientID, d.app(t).env()["PCS_CLIENT_ID"])
		}
	}
}

// The image is pulled by digest when one is given, so that promotion moves the tested image.
func TestImageByDigest(t *testing.T) {
	for _, r := range renders(t) {
		image := r.deployment(t).app(t).Image
		switch r.name {
		case "example values":
			if !strings.Contains(image, "@sha256:") || len(image[strings.Index(image, "@sha256:")+8:]) != 64 {
				t.Errorf("%s: image %s is not pinned by a sha256 digest", r.name, image)
			}
		case "default values":
			if image != "pcsupport:"+chartAppVersion(t) {
				t.Errorf("%s: image %s, want pcsupport:<appVersion>", r.name, image)
			}
		}
	}
}

// A PodDisruptionBudget covers the app's pods, lets a drain go on, and with two or more
// replicas keeps at least one serving.
func TestPodDisruptionBudget(t *testing.T) {
	for _, r := range renders(t) {
		var pdb podDisruptionBudget
		r.one(t, "PodDisruptionBudget", &pdb)
		d := r.deployment(t)
		if !selects(pdb.Spec.Selector, d.Spec.Template.Metadata.Labels) || len(pdb.Spec.Selector.MatchLabels) == 0 {
			t.Errorf("%s: the PodDisruptionBudget's selector %v does not select the app's pods", r.name, pdb.Spec.Selector)
		}
		replicas := d.Spec.Replicas
		var evictable int // pods that may be evicted at once, the others kept
		switch {
		case pdb.Spec.MaxUnavailable != nil:
			evictable = *pdb.Spec.MaxUnavailable
		case pdb.Spec.MinAvailable != nil:
			evictable = replicas - *pdb.Spec.MinAvailable
		default:
			t.Fatalf("%s: the PodDisruptionBudget sets neither maxUnavailable nor minAvailable", r.name)
		}
		if evictable < 1 {
			t.Errorf("%s: the PodDisruptionBudget lets no pod of %d be evicted: node drains hang", r.name, replicas)
		}
		if replicas >= 2 && evictable >= replicas {
			t.Errorf("%s: the PodDisruptionBudget lets all %d replicas go at once", r.name, replicas)
		}
		if r.name == "example values" && replicas < 2 {
			t.Errorf("%s: %d replica(s); the production example runs two", r.name, replicas)
		}
	}
}

// ServiceMonitor and PrometheusRule exist only when enabled (they need prometheus-operator's
// resource definitions); the ServiceMonitor scrapes the app's metrics path under the job the
// alerts name, and the PrometheusRule holds exactly the rule file.
func TestMonitoringOnlyWhenEnabled(t *testing.T) {
	for _, r := range renders(t) {
		sms, rules := r.all("ServiceMonitor"), r.all("PrometheusRule")
		if r.name != "example values" {
			if len(sms)+len(rules) > 0 {
				t.Errorf("%s: %d ServiceMonitor(s) and %d PrometheusRule(s) though not enabled", r.name, len(sms), len(rules))
			}
			continue
		}
		var sm serviceMonitor
		r.one(t, "ServiceMonitor", &sm)
		env := r.deployment(t).app(t).env()
		app := r.appService(t)
		if !selects(sm.Spec.Selector, app.Metadata.Labels) {
			t.Errorf("%s: the ServiceMonitor does not select the app's Service", r.name)
		}
		for _, s := range r.all("Service") {
			if s.Metadata.Name != app.Metadata.Name && selects(sm.Spec.Selector, s.Metadata.Labels) {
				t.Errorf("%s: the ServiceMonitor also selects Service %s", r.name, s.Metadata.Name)
			}
		}
		if len(sm.Spec.Endpoints) != 1 {
			t.Fatalf("%s: ServiceMonitor endpoints %+v", r.name, sm.Spec.Endpoints)
		}
		ep := sm.Spec.Endpoints[0]
		if ep.Path != routePrefix(env)+"metrics" || ep.Port != "http" {
			t.Errorf("%s: the ServiceMonitor scrapes %s on port %s, want %smetrics on http", r.name, ep.Path, ep.Port, routePrefix(env))
		}
		job := ""
		for _, rl := range ep.Relabelings {
			if rl.TargetLabel == "job" {
				job = rl.Replacement
			}
		}
		if job != "pcsupport" || !strings.Contains(readRuleFile(t), `job="pcsupport"`) {
			t.Errorf("%s: the ServiceMonitor names the job %q; the alerts expect pcsupport", r.name, job)
		}

		var pr prometheusRule
		r.one(t, "PrometheusRule", &pr)
		base := dig(chartValues(t, r.name), "metrics.prometheusRule.runbookBaseUrl").(string)
		want := parseRules(t, strings.ReplaceAll(readRuleFile(t), "runbook_url: docs/runbook.md#", "runbook_url: "+base+"docs/runbook.md#"))
		if fmt.Sprint(pr.Spec.Groups) != fmt.Sprint(want.Groups) {
			t.Errorf("%s: the PrometheusRule's groups differ from files/prometheus-rules.yaml", r.name)
		}
		for _, g := range pr.Spec.Groups {
			for _, rule := range g.Rules {
				if rule.Alert != "" && !strings.HasPrefix(rule.Annotations["runbook_url"], base+"docs/runbook.md#") {
					t.Errorf("%s: %s's runbook_url %q does not start with %s", r.name, rule.Alert, rule.Annotations["runbook_url"], base)
				}
			}
		}
	}
}

// The chart refuses, with a reason, what would run but not work.
func TestChartRefusesMisconfigurations(t *testing.T) {
	complete := []string{"--set", "publicUrl=https://tools.example.com/partner/support/,clientId=c,tenantId=t,workloadIdentity.enabled=true"}
	for _, tt := range []struct {
		set, why string
	}{
		{"replicaCount=2", "sessionStore redis"},
		{"replicaCount=2,sessionStore=redis,secrets.redisUrl.secretName=r", "secrets.databaseUrl"},
		{"sessionStore=redis", "needs secrets.redisUrl"},
		{"secrets.clientSecret.secretName=s", "exactly one client credential"},
		{"identityHeader=X-Forwarded-Email", "needs trustedProxies"},
		{"ingress.enabled=true", "needs trustedProxies"},
		{"ingress.enabled=true,trustedProxies={10.1.0.0/24},proxyStripsPrefix=true", "proxyStripsPrefix must be false"},
		{"publicUrl=tools.example.com", "absolute http(s) URL"},
		{"sessionStore=redis,secrets.redisUrl.secretName=r,networkPolicy.redis.to=null", "networkPolicy.redis.to is empty"},
	} {
		_, err := helmTemplate(t, append(complete, "--set", tt.set)...)
		if err == nil || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("--set %s: helm said %v, want a refusal saying %q", tt.set, err, tt.why)
		}
	}
	if _, err := helmTemplate(t, complete...); err != nil {
		t.Errorf("the complete settings are refused: %v", err)
	}
}

// routePrefix is where the app mounts its routes, as internal/config decides it.
func routePrefix(env map[string]string) string {
	if env["PCS_PROXY_STRIPS_PREFIX"] == "true" || env["PCS_PUBLIC_URL"] == "" {
		return "/"
	}
	u, err := url.Parse(env["PCS_PUBLIC_URL"])
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSuffix(path.Clean("/"+u.Path), "/") + "/"
}

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }
