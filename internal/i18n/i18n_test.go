package i18n

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEveryMessageHasEveryLanguage(t *testing.T) {
	if _, err := Load(); err != nil {
		t.Fatal(err)
	}
	// Plural messages need each form in each language.
	for _, lang := range Languages {
		var raw map[string]any
		b, _ := files.ReadFile("locales/" + lang.Code + ".json")
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		for id, v := range raw {
			switch m := v.(type) {
			case string:
				if strings.TrimSpace(m) == "" {
					t.Errorf("%s:%s is empty", lang.Code, id)
				}
			case map[string]any:
				if m["one"] == nil || m["other"] == nil {
					t.Errorf("%s:%s lacks a plural form", lang.Code, id)
				}
			}
		}
	}
}

func TestMissingFindsAGap(t *testing.T) {
	got := Missing(map[string]map[string]bool{"en": {"a": true, "b": true}, "fr": {"a": true}})
	if len(got) != 1 || got[0] != "fr:b" {
		t.Fatalf("Missing = %v", got)
	}
}

// Every message id written literally in the code is in the catalogue.
func TestIDsInTheCodeExist(t *testing.T) {
	c := Default()
	use := regexp.MustCompile(`(?:\bT|\bt\(ctx,|errorNotice\(l,)\s*\(?\s*"([a-zA-Z]+\.[a-zA-Z.]+)"`)
	var files []string
	for _, glob := range []string{"../handlers/*.go", "../views/*.templ"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no source files found")
	}
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range use.FindAllStringSubmatch(string(b), -1) {
			found++
			for _, lang := range Languages {
				if got := c.Get(lang.Code).T(m[1], "Label", "x", "Field", "x", "Max", 1, "Reason", "x", "Count", 2); got == m[1] {
					t.Errorf("%s: %s:%s is not in the catalogue", f, lang.Code, m[1])
				}
			}
		}
	}
	if found < 50 {
		t.Errorf("only %d message uses found: the pattern no longer matches the code", found)
	}
}

func TestPickPrefersTheChoiceThenTheBrowser(t *testing.T) {
	c := Default()
	for _, tt := range []struct{ choice, accept, want string }{
		{"", "", "en"},
		{"", "fr-FR,fr;q=0.9,en;q=0.8", "fr"},
		{"", "fr-CA", "fr"},
		{"", "de-DE,fr;q=0.5", "fr"},
		{"", "de-DE", "en"},
		{"en", "fr-FR", "en"},
		{"fr", "en-US", "fr"},
		{"xx", "fr", "fr"},
		{"", "garbage;;q=", "en"},
	} {
		if got := c.Pick(tt.choice, tt.accept); got.Code != tt.want {
			t.Errorf("Pick(%q, %q) = %s, want %s", tt.choice, tt.accept, got.Code, tt.want)
		}
	}
	if c.Get("fr").PCLocale != "fr-FR" || c.Get("en").PCLocale != "en-US" {
		t.Error("Partner Center locales")
	}
}

func TestPluralsAndPlaceholders(t *testing.T) {
	fr, en := Default().Get("fr"), Default().Get("en")
	if got := en.T("history.export.retry", "Count", 1); !strings.Contains(got, "1 second.") {
		t.Errorf("en one: %q", got)
	}
	if got := fr.T("history.export.retry", "Count", 30); !strings.Contains(got, "30\u00a0secondes") {
		t.Errorf("fr other: %q", got)
	}
	if got := fr.T("valid.tooLong", "Field", "Téléphone", "Max", 32); got != "Téléphone est trop long\u00a0: 32 caractères au plus." {
		t.Errorf("fr placeholders: %q", got)
	}
}
