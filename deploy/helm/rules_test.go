package helm_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"pcsupport/internal/metrics"
)

// These tests need no Helm: they read the rule file itself.

const ruleFilePath = chartDir + "/files/prometheus-rules.yaml"

type ruleFile struct {
	Groups []struct {
		Name  string `json:"name" yaml:"name"`
		Rules []struct {
			Alert       string            `json:"alert" yaml:"alert"`
			Expr        string            `json:"expr" yaml:"expr"`
			For         string            `json:"for,omitempty" yaml:"for"`
			Labels      map[string]string `json:"labels" yaml:"labels"`
			Annotations map[string]string `json:"annotations" yaml:"annotations"`
		} `json:"rules" yaml:"rules"`
	} `json:"groups" yaml:"groups"`
}

func readRuleFile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(ruleFilePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseRules(t *testing.T, text string) ruleFile {
	t.Helper()
	var f ruleFile
	if err := yaml.Unmarshal([]byte(text), &f); err != nil {
		t.Fatalf("rule file: %v", err)
	}
	return f
}

// The alerts docs/runbook.md explains, each with a severity, a summary, a description and a
// runbook_url that leads to its section.
func TestAlertsHaveRunbookSections(t *testing.T) {
	want := []string{"PcsupportSavesFailing", "PcsupportHistoryNotRecorded", "PcsupportTokenRefreshesFailing",
		"PcsupportNotReady", "PcsupportDown", "PcsupportServerErrors", "PcsupportPartnerCenterThrottling",
		"PcsupportNotificationsGivenUp"}
	anchors := runbookAnchors(t)
	var got []string
	for _, g := range parseRules(t, readRuleFile(t)).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			got = append(got, r.Alert)
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: no summary or description", r.Alert)
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], "docs/runbook.md#")
			if !ok || !anchors[anchor] {
				t.Errorf("%s: runbook_url %q is not a section of docs/runbook.md", r.Alert, r.Annotations["runbook_url"])
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
}

// promtool's unit tests (deploy/prometheus/rules_test.yaml) show every alert firing on one
// series and staying silent on another.
func TestEveryAlertHasAFiringAndASilentCase(t *testing.T) {
	b, err := os.ReadFile("../prometheus/rules_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tests struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTests []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(b, &tests); err != nil {
		t.Fatal(err)
	}
	if len(tests.RuleFiles) != 1 {
		t.Fatalf("rules_test.yaml tests %v, not the one rule file %s", tests.RuleFiles, ruleFilePath)
	}
	tested, _ := filepath.Abs(filepath.Join("../prometheus", tests.RuleFiles[0]))
	want, _ := filepath.Abs(ruleFilePath)
	if tested != want {
		t.Errorf("rules_test.yaml tests %s, not %s", tested, want)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTests {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	for _, g := range parseRules(t, readRuleFile(t)).Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && (!fires[r.Alert] || !silent[r.Alert]) {
				t.Errorf("%s: firing case %v, silent case %v in deploy/prometheus/rules_test.yaml", r.Alert, fires[r.Alert], silent[r.Alert])
			}
		}
	}
}

// Every metric, label and label value the alerts select is one the app exports, so that a
// renamed metric or outcome cannot silence an alert unnoticed.
func TestAlertsSelectWhatTheAppExports(t *testing.T) {
	exported, scrape := appMetrics(t)
	saveOutcomes := appSaveOutcomes(t)
	selector := regexp.MustCompile(`(pcsupport_[a-z_]+)(\{([^}]*)\})?`)
	matcher := regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	found := 0
	for _, g := range parseRules(t, readRuleFile(t)).Groups {
		for _, r := range g.Rules {
			for _, m := range selector.FindAllStringSubmatch(r.Expr, -1) {
				found++
				name := m[1]
				labels, ok := exported[name]
				if !ok {
					t.Errorf("%s: the app exports no %s", r.Alert, name)
					continue
				}
				for _, lm := range matcher.FindAllStringSubmatch(m[3], -1) {
					label, op, value := lm[1], lm[2], lm[3]
					if !slices.Contains(labels, label) {
						t.Errorf("%s: %s has no label %s (it has %v)", r.Alert, name, label, labels)
					}
					if name == "pcsupport_saves_total" && label == "outcome" && op == "=~" {
						for _, o := range strings.Split(value, "|") {
							if !slices.Contains(saveOutcomes, o) {
								t.Errorf("%s: no save ends %q (outcomes: %v)", r.Alert, o, saveOutcomes)
							}
						}
					}
					if name == "pcsupport_token_refreshes_total" && label == "outcome" {
						for _, o := range strings.Split(value, "|") {
							if !strings.Contains(scrape, name+`{outcome="`+o+`"}`) { // the refresh outcomes exist at 0 from the start
								t.Errorf("%s: no refresh ends %q", r.Alert, o)
							}
						}
					}
				}
			}
		}
	}
	if found < 7 {
		t.Errorf("found %d metric selectors in the rules: the check checks little", found)
	}
}

// runbookAnchors are the anchors of docs/runbook.md's headings, as Markdown renderers make them:
// lower case, spaces to hyphens, punctuation dropped.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(string(b), "\n") {
		if heading, ok := strings.CutPrefix(line, "#"); ok {
			h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(heading, "#")))
			anchors[strings.ReplaceAll(drop.ReplaceAllString(h, ""), " ", "-")] = true
		}
	}
	return anchors
}

// appMetrics is every pcsupport_ series name the app exports (histograms with their _count,
// _sum and _bucket), with its label names, after one event of each kind; and the scrape itself.
func appMetrics(t *testing.T) (map[string][]string, string) {
	t.Helper()
	m := metrics.New()
	m.ObserveRequest("/healthz", http.MethodGet, 200, time.Millisecond)
	m.Save("saved")
	m.SignIn(metrics.SignInSucceeded)
	m.HistoryWriteFailed(metrics.HistorySave)
	answer := roundTripper(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}}, nil
	})
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "https://pc.example/v1/profiles/support", nil)
	req.RequestURI = ""
	if _, err := m.PartnerCenterTransport(answer).RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	scrape := rec.Body.String()

	out := map[string][]string{}
	line := regexp.MustCompile(`^(pcsupport_[a-z_]+)(\{(.*)\})? `)
	label := regexp.MustCompile(`([a-z_]+)="`)
	sc := bufio.NewScanner(strings.NewReader(scrape))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		for _, l := range label.FindAllStringSubmatch(m[3], -1) {
			if l[1] != "le" && !slices.Contains(out[m[1]], l[1]) {
				out[m[1]] = append(out[m[1]], l[1])
			}
		}
		if _, ok := out[m[1]]; !ok {
			out[m[1]] = nil
		}
	}
	if len(out) < 6 {
		t.Fatalf("the app's scrape has only %d pcsupport_ series names:\n%s", len(out), scrape)
	}
	return out, scrape
}

// appSaveOutcomes are the outcomes a save can end in, as the handlers declare them.
func appSaveOutcomes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../internal/handlers/*.go")
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`saveOutcome\s*=\s*"([a-z_]+)"`)
	var outcomes []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
			outcomes = append(outcomes, m[1])
		}
	}
	if len(outcomes) < 5 {
		t.Fatalf("found the save outcomes %v in internal/handlers: the check checks little", outcomes)
	}
	return outcomes
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
