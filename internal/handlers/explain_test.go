package handlers

import (
	"testing"

	"pcsupport/internal/i18n"
	"pcsupport/internal/pcclient"
)

// The status in a failure's details carries its reason in the page's language, as Microsoft
// support and the person both read it.
func TestStatusReasonInThePagesLanguage(t *testing.T) {
	for _, tt := range []struct {
		lang   string
		status int
		want   string
	}{
		{"en", 503, "503 Service Unavailable"},
		{"fr", 503, "503 Service indisponible"},
		{"en", 403, "403 Forbidden"},
		{"fr", 403, "403 Interdit"},
		{"fr", 429, "429 Trop de requêtes"},
		{"fr", 504, "504 Délai d’attente de la passerelle dépassé"},
		{"fr", 418, "418"}, // no reason in the catalogue: the number alone, never English on a French page
	} {
		ex := explain(i18n.Default().Get(tt.lang), &pcclient.Error{Kind: pcclient.KindUnknown, Status: tt.status}, "corr", stepGet)
		if got := ex.notice.Details[0].Value; got != tt.want {
			t.Errorf("%s, %d: status %q, want %q", tt.lang, tt.status, got, tt.want)
		}
	}
}
