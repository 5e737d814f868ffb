package views

import (
	"bytes"
	"context"
	"testing"
)

// benchPage is the form page as a signed-in person first sees it, with values and asset names of
// realistic length. cmd/bench runs these benchmarks and checks the form render target.
func benchPage() ProfilePage {
	return ProfilePage{
		Page: Page{
			Title:     "Support profile",
			BasePath:  "/",
			CSS:       "/static/app.3f9a1c2b7d.css",
			JS:        "/static/htmx.min.8c1d2e3f4a.js",
			AppJS:     "/static/app.5b6c7d8e9f.js",
			Favicon:   "/static/favicon.0a1b2c3d4e.svg",
			CSRFToken: "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNDU2Nzg",
			User:      &User{Name: "Ada Admin", Username: "ada.admin@contoso-partner.example", TenantID: "6f0c2b3e-8d4a-4e1f-9b7c-2a5d8e1f4c30"},
		},
		Form: benchForm(nil),
	}
}

func benchForm(n *Notice) ProfileForm {
	return ProfileForm{
		Action:    "/save",
		CSRFToken: "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNDU2Nzg",
		Fields: []Field{
			{Name: "email", Label: "Support email", Type: "email", Autocomplete: "email", Hint: "One address, such as support@example.com.",
				Value: "support@contoso-partner.example", MaxLength: 254},
			{Name: "telephone", Label: "Support telephone", Type: "tel", Autocomplete: "tel",
				Hint:  "Digits with spaces, dashes, dots or brackets; it may start with +, such as +33 1 23 45 67 89.",
				Value: "+1 425 555 0100", MaxLength: 32, Changed: n != nil},
			{Name: "website", Label: "Support website", Type: "url", Autocomplete: "url",
				Hint:  "A host name such as www.example.com, or a link that starts with https://.",
				Value: "www.contoso-partner.example", MaxLength: 256},
		},
		Loaded:     "WyJzdXBwb3J0QGNvbnRvc28tcGFydG5lci5leGFtcGxlIiwiNDI1NTU1MDEwMCIsInd3dy5jb250b3NvLXBhcnRuZXIuZXhhbXBsZSJd",
		Submission: "0f8b6c4e-2a1d-4e7f-9b3c-5d6e7f8a9b0c",
		Notice:     n,
	}
}

// BenchmarkRenderProfilePage renders the whole form page, as a page view does.
func BenchmarkRenderProfilePage(b *testing.B) {
	vm := benchPage()
	ctx := context.Background()
	var size int
	var buf bytes.Buffer // reused, as the handlers reuse theirs (a pool)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := ProfilePageView(vm).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.SetBytes(int64(size))
}

// BenchmarkRenderSavedFragment renders the fragment htmx swaps in after a save.
func BenchmarkRenderSavedFragment(b *testing.B) {
	f := benchForm(&Notice{Kind: NoticeSuccess, Title: "Saved.", Lines: []string{"Partner Center now shows your customers the new details."},
		Changes: []Change{{Label: "Telephone", Before: "4255550100", After: "+1 425 555 0100"}}})
	ctx := context.Background()
	var size int
	var buf bytes.Buffer // reused, as the handlers reuse theirs (a pool)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := ProfileFormView(f).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.SetBytes(int64(size))
}
