package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The deployment guide names only settings that exist: every PCS_ variable anywhere in it, and
// every --flag in its prose and on command lines that run the app (other tools' flags, in their
// own examples, are theirs).
func TestDeployGuideNamesOnlyRealSettings(t *testing.T) {
	doc := readDeployGuide(t)
	flags, envs := map[string]bool{"help": true}, map[string]bool{}
	for _, s := range Documented() {
		flags[s[0]] = true
		envs[s[1]] = true
	}
	for _, env := range regexp.MustCompile(`PCS_[A-Z0-9_]+`).FindAllString(doc, -1) {
		if !envs[env] {
			t.Errorf("docs/deploy.md names %s, which is not a setting", env)
		}
	}
	flag := regexp.MustCompile(`(?:^|[\s` + "`" + `(])--([a-z][a-z0-9-]*)`)
	runsApp := regexp.MustCompile(`(^|\s|/)web(\s|$)`)
	inFence := false
	checked := 0
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence && !runsApp.MatchString(line) {
			continue
		}
		for _, m := range flag.FindAllStringSubmatch(line, -1) {
			checked++
			if !flags[m[1]] {
				t.Errorf("docs/deploy.md names --%s, which is not a setting: %s", m[1], strings.TrimSpace(line))
			}
		}
	}
	if checked == 0 {
		t.Error("no flags found in docs/deploy.md: the check checks nothing")
	}
}

func readDeployGuide(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
