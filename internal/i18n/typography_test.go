package i18n

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const (
	noBreakSpace       = '\u00a0'
	narrowNoBreakSpace = '\u202f'
)

// placeholdersAndURLs are left out of the typography check: template code and addresses follow
// rules of their own.
var placeholdersAndURLs = regexp.MustCompile(`\{\{[^}]*\}\}|https?://\S+`)

// French text follows French typography: a typographic apostrophe (’), a no-break space before
// a colon, and a no-break space (narrow, preferably) before ; ? ! and inside « », so that the
// sign never starts a line of its own.
func TestFrenchTypography(t *testing.T) {
	b, err := files.ReadFile("locales/fr.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for id, v := range raw {
		switch m := v.(type) {
		case string:
			texts[id] = m
		case map[string]any:
			for form, s := range m {
				texts[id+"."+form], _ = s.(string)
			}
		}
	}
	ids := make([]string, 0, len(texts))
	for id := range texts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, problem := range frenchTypographyProblems(texts[id]) {
			t.Errorf("fr:%s: %s in %q", id, problem, texts[id])
		}
	}
}

// frenchTypographyProblems lists what breaks French typography in s.
func frenchTypographyProblems(s string) []string {
	var problems []string
	rs := []rune(placeholdersAndURLs.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat("x", len([]rune(m))) }))
	for i, r := range rs {
		before, after := rune(0), rune(0)
		if i > 0 {
			before = rs[i-1]
		}
		if i+1 < len(rs) {
			after = rs[i+1]
		}
		switch {
		case r == '\'':
			problems = append(problems, "an ASCII apostrophe (want ’)")
		case r == ':' && before != noBreakSpace:
			problems = append(problems, "no no-break space (U+00A0) before “:”")
		case strings.ContainsRune(";?!»", r) && before != narrowNoBreakSpace && before != noBreakSpace:
			problems = append(problems, "no no-break space (U+202F) before “"+string(r)+"”")
		case r == '«' && after != narrowNoBreakSpace && after != noBreakSpace:
			problems = append(problems, "no no-break space after “«”")
		}
	}
	return problems
}

// The check itself finds what it is meant to find, and leaves placeholders and URLs alone.
func TestFrenchTypographyProblems(t *testing.T) {
	for s, want := range map[string]int{
		"l'Espace":                      1,
		"l’Espace":                      0,
		"Copier : {{.Label}}":           1,
		"Copier\u00a0: {{.Label}}":      0,
		"Vouliez-vous dire ceci ?":      1,
		"Vouliez-vous dire ceci\u202f?": 0,
		"« Garder »":                    2,
		"«\u00a0Garder\u00a0»":          0,
		"voir https://example.com/a:b":  0,
		"{{.When}} ; {{.Who}}":          1,
	} {
		if got := len(frenchTypographyProblems(s)); got != want {
			t.Errorf("%q: %d problems, want %d", s, got, want)
		}
	}
}
