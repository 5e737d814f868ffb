package handlers

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"pcsupport/internal/i18n"
	"pcsupport/internal/support"
)

// english is the message for a field in error, in English ("" when the field is valid).
func english(errs fieldErrors, field string) string {
	p, bad := errs[field]
	if !bad {
		return ""
	}
	for _, s := range fieldSpecs {
		if s.name() == field {
			return p.in(i18n.Default().Get("en"), s)
		}
	}
	return ""
}

func TestValidateField(t *testing.T) {
	valid := support.Contact{Email: "support@contoso.example", Telephone: "+1 425 555 5555", Website: "www.contoso.example"}
	tests := []struct {
		field, value string
		wantErr      string // a part of the message; "" means valid
	}{
		{"email", "support@contoso.example", ""},
		{"email", "first.last+tag@sub.contoso.co.uk", ""},
		{"email", "", "Support email is required."},
		{"email", "support", "one email address"},
		{"email", "support@localhost", "one email address"},
		{"email", "a@b.example, c@d.example", "one email address"},
		{"email", "Support <support@contoso.example>", "one email address"},
		{"email", "sup port@contoso.example", "one email address"},
		{"email", "support@contoso..example", "one email address"},
		{"email", "support@-contoso.example", "one email address"},
		{"email", strings.Repeat("a", 250) + "@x.example", "too long"},
		// The telephone as a number: TestTelephoneNumbers.
		{"telephone", "+33 1 23 45 67 89", ""},
		{"telephone", "", "Support telephone is required."},
		{"telephone", "+33 1 23 45 67 89 " + strings.Repeat("0", 20), "too long"},
		{"website", "www.contoso.example", ""},
		{"website", "https://www.contoso.example/support?lang=en", ""},
		{"website", "http://support.contoso.example", ""},
		{"website", "HTTPS://Contoso.example", ""},
		{"website", "contoso.example/help", ""},
		{"website", "", "Support website is required."},
		{"website", "javascript:alert(1)", "Enter a host name"},
		{"website", "JavaScript://%0aalert(1)", "Enter a host name"},
		{"website", "ftp://contoso.example", "Enter a host name"},
		{"website", "data:text/html,<script>", "Enter a host name"},
		{"website", "https://user:pw@contoso.example", "Enter a host name"},
		{"website", "contoso", "Enter a host name"},
		{"website", "https://", "Enter a host name"},
		{"website", "www.contoso.example/<script>", "Enter a host name"},
		{"website", "https://" + strings.Repeat("a", 260) + ".example", "too long"},
		{"email", "sup\x00port@contoso.example", "not text"},
		{"telephone", "\xff\xfe", "not text"},
	}
	for _, tt := range tests {
		t.Run(tt.field+"/"+tt.value, func(t *testing.T) {
			c := valid
			switch tt.field {
			case "email":
				c.Email = tt.value
			case "telephone":
				c.Telephone = tt.value
			case "website":
				c.Website = tt.value
			}
			errs := validate(c, telephoneCheck{region: "US"})
			got := english(errs, tt.field)
			if tt.wantErr == "" && got != "" {
				t.Fatalf("%q refused: %s", tt.value, got)
			}
			if tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
				t.Fatalf("%q: message %q does not say %q", tt.value, got, tt.wantErr)
			}
			if len(errs) > 1 {
				t.Fatalf("other fields reported too: %v", errs)
			}
		})
	}
}

func TestParseProfileFormTrimsAndReadsLoaded(t *testing.T) {
	loaded := support.Contact{Email: "a@b.example", Telephone: "4255555555", Website: "www.b.example"}
	f := parseProfileForm(url.Values{
		"email": {"  new@b.example "}, "telephone": {"\t4255555555"}, "website": {"www.b.example\n"},
		"loaded": {encodeLoaded(loaded)},
	})
	if f.typed != (support.Contact{Email: "new@b.example", Telephone: "4255555555", Website: "www.b.example"}) {
		t.Fatalf("typed = %+v", f.typed)
	}
	if !f.loadedOK || f.loaded != loaded {
		t.Fatalf("loaded = %+v, %v", f.loaded, f.loadedOK)
	}
	if f := parseProfileForm(url.Values{"loaded": {"not base64!"}}); f.loadedOK {
		t.Fatal("a damaged loaded record was accepted")
	}
}

func TestChangesNamesWhatChanged(t *testing.T) {
	got := changes(i18n.Default().Get("en"), support.Contact{Email: "a@b.example", Telephone: "4255555555", Website: "www.b.example"}, support.Contact{Email: "a@b.example", Telephone: "+33 1 23 45 67 89", Website: "www.b.example"})
	if len(got) != 1 || got[0].Label != "Telephone" || got[0].Before != "4255555555" || got[0].After != "+33 1 23 45 67 89" {
		t.Fatalf("changes = %+v", got)
	}
}

// FuzzProfileForm feeds arbitrary form bodies through parsing and validation: nothing panics,
// whatever is accepted is valid UTF-8 within the limits, and a website that passes is never a
// script URL.
func FuzzProfileForm(f *testing.F) {
	f.Add("email=a%40b.example&telephone=4255555555&website=www.b.example")
	f.Add("email=%FF&telephone=%2B33+1+23&website=javascript%3Aalert(1)&loaded=W10")
	f.Add("website=https%3A%2F%2Fx.example%2F%3Cscript%3E&loaded=WyJhIiwiYiIsImMiXQ")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form := parseProfileForm(v)
		errs := validate(form.typed, telephoneCheck{region: "FR", loaded: form.loaded.Telephone, loadedKnown: form.loadedOK})
		for _, s := range fieldSpecs {
			val := form.typed.Get(s.field)
			if _, bad := errs[s.name()]; bad {
				continue
			}
			if !utf8.ValidString(val) || utf8.RuneCountInString(val) > s.max || val == "" {
				t.Fatalf("%s accepted %q", s.name(), val)
			}
			if s.name() == "website" && strings.Contains(strings.ToLower(val), "script:") {
				t.Fatalf("website accepted %q", val)
			}
		}
		_ = fields(i18n.Default().Get("fr"), form.typed, form.loaded, errs)
	})
}
