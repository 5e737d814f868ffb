// Package i18n holds every word the app shows, in English and in French, and picks the language
// of a request: the person's own choice (a cookie) first, then the browser's Accept-Language.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var files embed.FS

// Language is one language the app speaks.
type Language struct {
	Code     string // "en", "fr": the html lang attribute and the cookie value
	Name     string // the language's name in itself, for the switch
	PCLocale string // what Partner Center receives in X-Locale
}

// Languages are the supported languages; the first is the default.
var Languages = []Language{
	{Code: "en", Name: "English", PCLocale: "en-US"},
	{Code: "fr", Name: "Français", PCLocale: "fr-FR"},
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.French})

// Catalog is the loaded message catalogue.
type Catalog struct {
	localizers map[string]*Localizer
}

// Localizer gives the words of one language.
type Localizer struct {
	Language
	plain map[string]string // messages without placeholders, looked up directly (rendering is hot)
	l     *goi18n.Localizer
}

// Load reads the embedded catalogue. It fails when a language lacks a message another has.
func Load() (*Catalog, error) {
	bundle := goi18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &Catalog{localizers: map[string]*Localizer{}}
	ids := map[string]map[string]bool{}
	for _, lang := range Languages {
		name := "locales/" + lang.Code + ".json"
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if _, err := bundle.ParseMessageFileBytes(data, name); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		var raw map[string]any
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		loc := &Localizer{Language: lang, plain: map[string]string{}, l: goi18n.NewLocalizer(bundle, lang.Code)}
		ids[lang.Code] = map[string]bool{}
		for id, v := range raw {
			ids[lang.Code][id] = true
			if s, ok := v.(string); ok && !strings.Contains(s, "{{") {
				loc.plain[id] = s
			}
		}
		c.localizers[lang.Code] = loc
	}
	if missing := Missing(ids); len(missing) > 0 {
		return nil, fmt.Errorf("messages without a translation: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Missing lists "lang:id" for every id some language has and another lacks.
func Missing(ids map[string]map[string]bool) []string {
	var out []string
	for _, a := range Languages {
		for _, b := range Languages {
			for id := range ids[a.Code] {
				if !ids[b.Code][id] {
					out = append(out, b.Code+":"+id)
				}
			}
		}
	}
	return out
}

// Pick chooses the language: a supported choice the person made (cookie) wins, then the
// browser's Accept-Language, then English.
func (c *Catalog) Pick(choice, acceptLanguage string) *Localizer {
	if l, ok := c.localizers[choice]; ok {
		return l
	}
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		i = 0
	}
	return c.localizers[Languages[i].Code]
}

// Get returns the localizer of a supported language code, or nil.
func (c *Catalog) Get(code string) *Localizer { return c.localizers[code] }

// T returns the message id in this language. args are name, value pairs for the placeholders;
// a "Count" argument also chooses the plural form.
func (l *Localizer) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := l.plain[id]; ok {
			return s
		}
	}
	data := map[string]any{}
	var count any
	for i := 0; i+1 < len(args); i += 2 {
		name := fmt.Sprint(args[i])
		data[name] = args[i+1]
		if name == "Count" {
			count = args[i+1]
		}
	}
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		missing.Store(l.Code+":"+id, true)
		return id // visible in the page, and reported by MissingSoFar
	}
	return s
}

// Lookup returns a message without placeholders, and whether the catalogue has it: for ids
// built from data (an HTTP status), where a missing one is expected and not an error.
func (l *Localizer) Lookup(id string) (string, bool) {
	s, ok := l.plain[id]
	return s, ok
}

// missing records every message asked for and not found, for MissingSoFar.
var missing sync.Map

// MissingSoFar lists the messages asked for since the program started that the catalogue lacks
// ("lang:id"). Test suites check it at the end, since some ids are built at run time.
func MissingSoFar() []string {
	var out []string
	missing.Range(func(k, _ any) bool { out = append(out, k.(string)); return true })
	return out
}

type ctxKey struct{}

// WithLocalizer returns a context carrying l, for the views.
func WithLocalizer(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the context's localizer, or nil.
func FromContext(ctx context.Context) *Localizer {
	l, _ := ctx.Value(ctxKey{}).(*Localizer)
	return l
}

var (
	defaultOnce    sync.Once
	defaultCatalog *Catalog
)

// Default returns the embedded catalogue, loaded once. It panics when the catalogue is broken,
// which the package's tests catch first.
func Default() *Catalog {
	defaultOnce.Do(func() {
		c, err := Load()
		if err != nil {
			panic(err)
		}
		defaultCatalog = c
	})
	return defaultCatalog
}

// FromContextOrDefault returns the context's localizer, or English.
func FromContextOrDefault(ctx context.Context) *Localizer {
	if l := FromContext(ctx); l != nil {
		return l
	}
	return Default().Get(Languages[0].Code)
}
