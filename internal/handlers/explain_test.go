package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

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
		ex := explain(i18n.Default().Get(tt.lang), &pcclient.Error{Kind: pcclient.KindUnknown, Status: tt.status}, "corr", stepGet, answerTo{})
		if got := ex.notice.Details[0].Value; got != tt.want {
			t.Errorf("%s, %d: status %q, want %q", tt.lang, tt.status, got, tt.want)
		}
	}
}

// Where Partner Center's rules are the answer, the page links to Microsoft's page on them, in
// the page's language, opening in a new tab so that the form stays: the roles after a refusal for
// the role, multi-factor authentication where it is missing; and every page says where the same
// settings are in Partner Center and where customers find the partner.
func TestLinksToMicrosoftsPages(t *testing.T) {
	tb := newTestbed(t, func(o *Options) {
		o.Portal = "https://partner.microsoft.com/dashboard/account/v3/organization/legalinfo"
	})
	tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindForbidden, Status: 403, Code: "900150"}}
	_, doc := tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+1 425 555 0111"), "HX-Request", "true")
	roles := doc.Find(`#notice a[href="https://learn.microsoft.com/en-us/partner-center/account-settings/permissions-overview"]`)
	if roles.Length() != 1 || roles.AttrOr("target", "") != "_blank" || !strings.Contains(text(roles), "opens in a new tab") {
		t.Errorf("a refusal for the role does not link to the roles: %q", text(doc.Find("#notice")))
	}

	// Where there is something to do, it comes first, Microsoft's page after.
	tb.pc.putErrs = []error{&pcclient.Error{Kind: pcclient.KindMFARequired, Status: 401, Code: "10001"}}
	_, doc = tb.request(http.MethodPost, "/save", tb.saveForm("telephone", "+1 425 555 0112"), "HX-Request", "true")
	var links []string
	doc.Find("#notice a").Each(func(_ int, a *goquery.Selection) { links = append(links, a.AttrOr("href", "")) })
	if len(links) != 2 || !strings.HasPrefix(links[0], "/auth/signin") || links[1] != "https://learn.microsoft.com/en-us/partner-center/security/partner-security-requirements" {
		t.Errorf("after a refusal for MFA the notice links to %q, want signing in again, then Microsoft's page", links)
	}

	_, doc = tb.request(http.MethodGet, "/", nil, "Accept-Language", "fr")
	footer := doc.Find("footer")
	if portal := footer.Find(`a[href^="https://partner.microsoft.com/"]`); !strings.Contains(text(portal), "paramètres du compte, informations légales") {
		t.Errorf("the portal link does not name its page: %q", text(portal))
	}
	if footer.Find(`a[href="https://learn.microsoft.com/fr-fr/microsoft-365/commerce/manage-partners"]`).Length() != 1 {
		t.Errorf("no link, in French, to where customers find their partner: %q", text(footer))
	}

	nomfa := signedInAda
	nomfa.AMR = []string{"pwd"}
	tb.auth.user = &nomfa
	_, doc = tb.request(http.MethodGet, "/", nil)
	if doc.Find(`#notice a[href="https://learn.microsoft.com/en-us/partner-center/security/partner-security-requirements"]`).Length() != 1 {
		t.Errorf("the MFA page does not link to Partner Center's MFA requirement: %q", text(doc.Find("main")))
	}
}
