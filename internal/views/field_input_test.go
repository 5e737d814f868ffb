package views

import (
	"bytes"
	"context"
	"testing"
)

// The input written in Go is the one templ wrote: every attribute, values escaped.
func TestFieldInput(t *testing.T) {
	tests := []struct {
		f     Field
		focus bool
		want  string
	}{
		{Field{Name: "email", Type: "email", Value: `a"b<c>&d@example.com`, Autocomplete: "email", MaxLength: 254, Changed: true},
			false,
			`<input id="email" name="email" type="email" value="a&#34;b&lt;c&gt;&amp;d@example.com" autocomplete="email" maxlength="254" ` +
				`aria-describedby="email-hint" spellcheck="false" class="mt-1 block w-full rounded border px-3 py-2 border-slate-500">`},
		{Field{Name: "telephone", Type: "tel", Value: "+1", Autocomplete: "tel", InputMode: "tel", MaxLength: 32, Error: "Enter a number."},
			true,
			`<input id="telephone" name="telephone" type="tel" value="+1" autocomplete="tel" inputmode="tel" maxlength="32" ` +
				`aria-describedby="telephone-error telephone-hint" aria-invalid="true" autofocus data-mark-changes spellcheck="false" ` +
				`class="mt-1 block w-full rounded border px-3 py-2 border-red-700 bg-red-50">`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := (fieldInput{f: tt.f, focus: tt.focus}).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
		}
	}
}
