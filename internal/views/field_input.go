package views

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"
)

// fieldInput renders a field's <input>. It is the one piece of markup written in Go rather than
// templ: it is the hottest, and templ's generated code allocates for every attribute value
// (BENCHMARKS.md, "The profile's story"). Values are escaped with templ.EscapeString, as templ does.
type fieldInput struct {
	f     Field
	focus bool
}

// The input's classes: the border says whether the value is in error.
const (
	inputClass      = "mt-1 block w-full rounded border px-3 py-2 border-slate-500"
	inputErrorClass = "mt-1 block w-full rounded border px-3 py-2 border-red-700 bg-red-50"
)

func (in fieldInput) Render(_ context.Context, w io.Writer) error {
	f := in.f
	out := htmlWriter{w: w}
	out.raw(`<input id="`)
	out.text(f.Name)
	out.raw(`" name="`)
	out.text(f.Name)
	out.attr("type", f.Type)
	out.attr("value", f.Value)
	out.attr("autocomplete", f.Autocomplete)
	if f.InputMode != "" {
		out.attr("inputmode", f.InputMode)
	}
	out.raw(`" maxlength="`)
	out.raw(strconv.Itoa(f.MaxLength))
	out.raw(`" aria-describedby="`)
	if f.Error != "" {
		out.text(f.ErrorID())
		out.raw(" ")
	}
	if f.Suggestion != "" {
		out.text(f.SuggestionID())
		out.raw(" ")
	}
	out.text(f.HintID())
	out.raw(`"`)
	if f.Error != "" {
		out.raw(` aria-invalid="true"`)
	}
	if in.focus {
		out.raw(` autofocus`)
	}
	if !f.Changed {
		out.raw(` data-mark-changes`)
	}
	class := inputClass
	if f.Error != "" {
		class = inputErrorClass
	}
	out.raw(` spellcheck="false" class="` + class + `">`)
	return out.err
}

// htmlWriter writes markup, keeping the first error.
type htmlWriter struct {
	w   io.Writer
	err error
}

func (h *htmlWriter) raw(s string) {
	if h.err == nil {
		_, h.err = io.WriteString(h.w, s)
	}
}

// text writes s escaped for HTML text or a quoted attribute value.
func (h *htmlWriter) text(s string) { h.raw(templ.EscapeString(s)) }

// attr ends the previous attribute's quote and writes name="value".
func (h *htmlWriter) attr(name, value string) {
	h.raw(`" ` + name + `="`)
	h.text(value)
}
