package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/devidp"
	"pcsupport/internal/pcemu"
)

// Every save attempt writes one audit record with who, when, before, after, outcome, status,
// code and the Partner Center ids; and nothing logged ever holds a token, a secret, a cookie or
// an authorization header, on the failure paths least of all.
func TestAuditTrailAndNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	app := startApp(t, "--log-format", "json", "--dev-token-lifetime", "4s")
	b := newBrowser(t)
	doc := b.signIn(app, "admin")
	save := func(tel string, faults ...pcemu.Fault) *http.Response {
		f := formValues(doc)
		f.Set("telephone", tel)
		for _, fault := range faults {
			app.dev.emu.InjectFaults(fault)
		}
		resp, frag := b.post(app.url+"save", f, "HX-Request", "true")
		if frag.Find("#profile").Length() == 1 {
			doc = frag
		}
		return resp
	}

	save("not a phone")                                                                       // invalid
	save("+1 425 555 0101")                                                                   // saved
	save("+1 425 555 0102", pcemu.Fault{Method: http.MethodPut, Status: 403, Code: "900150"}) // refused
	save("+1 425 555 0103", pcemu.Fault{Method: http.MethodPut, Status: 401, Code: "800001"}) // silent refresh, saved
	save("+1 425 555 0104", pcemu.Fault{Method: http.MethodGet, Status: 500, Count: 3})       // unavailable
	app.dev.emu.SetProfile(devidp.TenantID, "x@y.example", "4255550100", "www.y.example")
	save("+1 425 555 0105") // conflict
	app.dev.idp.RevokeRefreshTokens(devidp.Personas()[0].ObjectID)
	app.dev.emu.InjectFaults(pcemu.Fault{Method: http.MethodGet, Status: 401, Code: "800001"})
	f := formValues(doc)
	f.Set("website", "www.z.example")
	b.post(app.url+"save", f, "HX-Request", "true") // refresh refused: sign in again

	want := []string{"invalid", "saved", "refused", "saved", "refused", "conflict", "sign_in_required"}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(app.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec["audit"] != "support_profile_save" {
			continue
		}
		got = append(got, rec["outcome"].(string))
		who, _ := rec["who"].(map[string]any)
		if who["upn"] != "ada.admin@contoso-partner.example" || who["object_id"] == "" || who["tenant_id"] != devidp.TenantID || rec["when"] == nil {
			t.Errorf("record lacks who/when: %v", rec)
		}
		switch rec["outcome"] {
		case "saved":
			if rec["before"] == nil || rec["after"] == nil || rec["correlation_id"] == nil || rec["ms_request_id"] == nil {
				t.Errorf("saved record lacks before/after/ids: %v", rec)
			}
		case "refused":
			if rec["upstream_status"] == nil || rec["correlation_id"] == nil {
				t.Errorf("refused record lacks status or correlation id: %v", rec)
			}
			if rec["upstream_status"] == float64(403) && rec["partner_center_code"] != "900150" {
				t.Errorf("403 record lacks the code: %v", rec)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit outcomes %v, want one record per attempt %v", got, want)
	}

	logs := app.logs.String()
	u, _ := url.Parse(app.url)
	secret, _ := app.cfg.ClientCredential.(clientauth.Secret)
	secrets := []string{string(secret), "client_assertion", "Bearer ", "eyJ", "refresh_token", "access_token", "id_token"}
	for _, c := range b.client.Jar.Cookies(u) {
		secrets = append(secrets, c.Value)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the logs contain a secret or token (%.12q...)", s)
		}
	}
}
