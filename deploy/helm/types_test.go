package helm_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Typed views of the few Kubernetes fields the tests read; the rest of each object is ignored.

type labelSelector struct {
	MatchLabels      map[string]string `json:"matchLabels,omitempty"`
	MatchExpressions []any             `json:"matchExpressions,omitempty"`
}

func (s *labelSelector) empty() bool {
	return s == nil || len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

func (s *labelSelector) String() string {
	if s == nil {
		return "<none>"
	}
	return fmt.Sprint(s.MatchLabels, s.MatchExpressions)
}

// selects reports whether s's matchLabels all hold in labels (the charts use no expressions).
func selects(s labelSelector, labels map[string]string) bool {
	if len(s.MatchExpressions) > 0 {
		return false
	}
	for k, v := range s.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

type securityContext struct {
	RunAsNonRoot             *bool  `json:"runAsNonRoot"`
	RunAsUser                *int64 `json:"runAsUser"`
	AllowPrivilegeEscalation *bool  `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool  `json:"readOnlyRootFilesystem"`
	Privileged               *bool  `json:"privileged"`
	Capabilities             *struct {
		Drop []string `json:"drop"`
		Add  []string `json:"add"`
	} `json:"capabilities"`
	SeccompProfile *struct {
		Type string `json:"type"`
	} `json:"seccompProfile"`
}

type probe struct {
	HTTPGet *struct {
		Path string `json:"path"`
		Port any    `json:"port"`
	} `json:"httpGet"`
	TimeoutSeconds int `json:"timeoutSeconds"`
}

type envVar struct {
	Name      string         `json:"name"`
	Value     string         `json:"value"`
	ValueFrom map[string]any `json:"valueFrom"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
	SubPath   string `json:"subPath"`
}

type container struct {
	Name    string           `json:"name"`
	Image   string           `json:"image"`
	Env     []envVar         `json:"env"`
	EnvFrom []map[string]any `json:"envFrom"`
	Ports   []struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
		HostPort      int    `json:"hostPort"`
	} `json:"ports"`
	VolumeMounts    []volumeMount    `json:"volumeMounts"`
	SecurityContext *securityContext `json:"securityContext"`
	LivenessProbe   *probe           `json:"livenessProbe"`
	ReadinessProbe  *probe           `json:"readinessProbe"`
	StartupProbe    *probe           `json:"startupProbe"`
	Lifecycle       *struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int `json:"seconds"`
			} `json:"sleep"`
		} `json:"preStop"`
	} `json:"lifecycle"`
}

// env is the container's plain variables (those with a literal value).
func (c container) env() map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			m[e.Name] = e.Value
		}
	}
	return m
}

func (c container) mountAt(dir string) (volumeMount, bool) {
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) == path.Clean(dir) {
			return m, true
		}
	}
	return volumeMount{}, false
}

// mountHolding is the mount under which file lies.
func (c container) mountHolding(file string) (volumeMount, bool) {
	for _, m := range c.VolumeMounts {
		if m.SubPath == "" && strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return m, true
		}
	}
	return volumeMount{}, false
}

// hasPort reports whether port (a number or a port's name) is the container's port number n.
func (c container) hasPort(port any, n int) bool {
	for _, p := range c.Ports {
		if p.ContainerPort == n && (port == p.Name || port == float64(n)) {
			return true
		}
	}
	return false
}

type deployment struct {
	Spec struct {
		Replicas int           `json:"replicas"`
		Selector labelSelector `json:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				ServiceAccountName           string `json:"serviceAccountName"`
				AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken"`
				HostNetwork                  bool   `json:"hostNetwork"`
				HostPID                      bool   `json:"hostPID"`
				HostIPC                      bool   `json:"hostIPC"`
				SecurityContext              *struct {
					securityContext
					FSGroup *int64 `json:"fsGroup"`
				} `json:"securityContext"`
				Containers                    []container      `json:"containers"`
				InitContainers                []container      `json:"initContainers"`
				Volumes                       []map[string]any `json:"volumes"`
				TerminationGracePeriodSeconds int              `json:"terminationGracePeriodSeconds"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

func (r rendered) deployment(t *testing.T) deployment {
	t.Helper()
	var d deployment
	r.one(t, "Deployment", &d)
	if !selects(d.Spec.Selector, d.Spec.Template.Metadata.Labels) {
		t.Fatalf("%s: the Deployment's selector does not select its own pods", r.name)
	}
	return d
}

// app is the app's container, "web".
func (d deployment) app(t *testing.T) container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "web" {
			return c
		}
	}
	t.Fatal("no container named web")
	return container{}
}

func (d deployment) volumes(t *testing.T) []map[string]any { return d.Spec.Template.Spec.Volumes }

func (d deployment) volume(t *testing.T, name string) map[string]any {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v["name"] == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return nil
}

// volumeHoldsFile reports whether the volume is a Secret with an item at rel, or a projected
// service-account token at rel.
func (d deployment) volumeHoldsFile(t *testing.T, name, rel string) bool {
	v := d.volume(t, name)
	if s, ok := v["secret"].(map[string]any); ok {
		items, _ := s["items"].([]any)
		for _, it := range items {
			if it.(map[string]any)["path"] == rel {
				return true
			}
		}
	}
	if p, ok := v["projected"].(map[string]any); ok {
		sources, _ := p["sources"].([]any)
		for _, src := range sources {
			if tok, ok := src.(map[string]any)["serviceAccountToken"].(map[string]any); ok && tok["path"] == rel {
				return true
			}
		}
	}
	return false
}

type service struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector map[string]string `json:"selector"`
	} `json:"spec"`
}

func (r rendered) service(t *testing.T, name string) *service {
	for _, o := range r.all("Service") {
		if o.Metadata.Name == name {
			var s service
			o.into(t, &s)
			return &s
		}
	}
	return nil
}

// appService is the Service whose selector picks the app's pods.
func (r rendered) appService(t *testing.T) service {
	t.Helper()
	labels := r.deployment(t).Spec.Template.Metadata.Labels
	var found []service
	for _, o := range r.all("Service") {
		var s service
		o.into(t, &s)
		if len(s.Spec.Selector) > 0 && selects(labelSelector{MatchLabels: s.Spec.Selector}, labels) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d Services select the app's pods, want 1", r.name, len(found))
	}
	return found[0]
}

type ingress struct {
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		TLS []struct {
			Hosts []string `json:"hosts"`
		} `json:"tls"`
		Rules []struct {
			Host string `json:"host"`
			HTTP struct {
				Paths []struct {
					Path     string `json:"path"`
					PathType string `json:"pathType"`
					Backend  struct {
						Service struct {
							Name string `json:"name"`
						} `json:"service"`
					} `json:"backend"`
				} `json:"paths"`
			} `json:"http"`
		} `json:"rules"`
	} `json:"spec"`
}

func (r rendered) ingresses(t *testing.T) []ingress {
	var out []ingress
	for _, o := range r.all("Ingress") {
		var ing ingress
		o.into(t, &ing)
		out = append(out, ing)
	}
	return out
}

type peer struct {
	PodSelector       *labelSelector `json:"podSelector,omitempty"`
	NamespaceSelector *labelSelector `json:"namespaceSelector,omitempty"`
	IPBlock           *struct {
		CIDR   string   `json:"cidr"`
		Except []string `json:"except,omitempty"`
	} `json:"ipBlock,omitempty"`
}

func (p peer) empty() bool {
	return p.IPBlock == nil && p.PodSelector.empty() && p.NamespaceSelector.empty()
}

func (p peer) String() string {
	if p.IPBlock != nil {
		return fmt.Sprintf("ipBlock(%s except %v)", p.IPBlock.CIDR, p.IPBlock.Except)
	}
	return fmt.Sprintf("namespaces %v pods %v", p.NamespaceSelector, p.PodSelector)
}

type networkPort struct {
	Port     any    `json:"port"`
	Protocol string `json:"protocol"`
}

func (p networkPort) protocol() string {
	if p.Protocol == "" {
		return "TCP"
	}
	return p.Protocol
}

type networkPolicy struct {
	Spec struct {
		PodSelector labelSelector `json:"podSelector"`
		PolicyTypes []string      `json:"policyTypes"`
		Ingress     []struct {
			From  []peer        `json:"from"`
			Ports []networkPort `json:"ports"`
		} `json:"ingress"`
		Egress []struct {
			To    []peer        `json:"to"`
			Ports []networkPort `json:"ports"`
		} `json:"egress"`
	} `json:"spec"`
}

type podDisruptionBudget struct {
	Spec struct {
		MinAvailable   *int          `json:"minAvailable"`
		MaxUnavailable *int          `json:"maxUnavailable"`
		Selector       labelSelector `json:"selector"`
	} `json:"spec"`
}

type serviceMonitor struct {
	Spec struct {
		Selector  labelSelector `json:"selector"`
		Endpoints []struct {
			Port        string `json:"port"`
			Path        string `json:"path"`
			Relabelings []struct {
				TargetLabel string `json:"targetLabel"`
				Replacement string `json:"replacement"`
			} `json:"relabelings"`
		} `json:"endpoints"`
	} `json:"spec"`
}

type prometheusRule struct {
	Spec ruleFile `json:"spec"`
}

// chartValues is the chart's values for a case as far as the tests need them: values.yaml with
// the example's values over it for the example.
func chartValues(t *testing.T, caseName string) map[string]any {
	t.Helper()
	values := readYAML(t, chartDir+"/values.yaml")
	if caseName == "example values" {
		merge(values, readYAML(t, chartDir+"/values-example.yaml"))
	}
	return values
}

func readYAML(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// merge sets over's values into base as Helm does: maps merged key by key, anything else replaced.
func merge(base, over map[string]any) {
	for k, v := range over {
		if bm, ok := base[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				merge(bm, om)
				continue
			}
		}
		base[k] = v
	}
}

// dig reads a dotted path of map keys.
func dig(m map[string]any, dotted string) any {
	var v any = m
	for _, k := range strings.Split(dotted, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// selectorValue is a label selector given in the values.
func selectorValue(t *testing.T, values map[string]any, dotted string) *labelSelector {
	t.Helper()
	var s labelSelector
	convert(t, dig(values, dotted), &s)
	return &s
}

func peersValue(t *testing.T, values map[string]any, dotted string) []peer {
	t.Helper()
	var p []peer
	convert(t, dig(values, dotted), &p)
	return p
}

// portList is a values list of TCP ports, written as the egress rules' ports are compared.
func portList(values map[string]any, dotted string) []string {
	var out []string
	list, _ := dig(values, dotted).([]any)
	for _, p := range list {
		out = append(out, fmt.Sprintf("%v/TCP", p))
	}
	return out
}

// convert turns YAML-decoded data into v, through JSON so that the views' json tags apply.
func convert(t *testing.T, in, v any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func chartAppVersion(t *testing.T) string {
	t.Helper()
	v, _ := readYAML(t, chartDir+"/Chart.yaml")["appVersion"].(string)
	if v == "" {
		t.Fatal("Chart.yaml has no appVersion")
	}
	return v
}
