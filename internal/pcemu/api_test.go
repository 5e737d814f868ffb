package pcemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGetReturnsTheDocumentedShape(t *testing.T) {
	e := newTestEmulator(t, Options{})
	rec := serve(t, e, request{token: userToken(t, tenantA, readerOID)})
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d: %s", rec.Code, rec.Body)
	}
	want := `{"email":"support@contoso-partner.example","telephone":"4255550100","website":"www.contoso-partner.example",` +
		`"profileType":"support_profile","links":{"self":{"uri":"/v1/profiles/support","method":"GET","headers":[]}},` +
		`"attributes":{"objectType":"PartnerSupportProfile"}}`
	if got := rec.Body.String(); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := string(e.StoredJSON(tenantA)); got != want {
		t.Errorf("StoredJSON = %s", got)
	}
}

func TestTraceHeaders(t *testing.T) {
	e := newTestEmulator(t, Options{})
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for _, rq := range []request{
		{token: userToken(t, tenantA, readerOID)},
		{},                         // a refusal carries them too
		{path: "/_emulator/state"}, // and the control surface
	} {
		rec := serve(t, e, rq)
		for _, name := range []string{"MS-CorrelationId", "MS-RequestId"} {
			if v := rec.Header().Get(name); !guid.MatchString(v) {
				t.Errorf("%s %s: %s = %q, want a new GUID", rq.method, rq.path, name, v)
			}
		}
		if rec.Header().Get("MS-CV") == "" {
			t.Errorf("%s: no MS-CV", rq.path)
		}
	}
	rec := serve(t, e, request{token: userToken(t, tenantA, readerOID), header: map[string]string{
		"MS-CorrelationId": "c0ffee00-0000-0000-0000-000000000001",
		"MS-RequestId":     "c0ffee00-0000-0000-0000-000000000002",
	}})
	if rec.Header().Get("MS-CorrelationId") != "c0ffee00-0000-0000-0000-000000000001" ||
		rec.Header().Get("MS-RequestId") != "c0ffee00-0000-0000-0000-000000000002" {
		t.Errorf("ids not echoed: %v", rec.Header())
	}
}

func TestPutReplacesTheProfile(t *testing.T) {
	tests := []struct {
		name, path, body          string
		email, telephone, website string
	}{
		{"PascalCase on /support", supportPath, pascalBody, "help@fabrikam.example", "+33 1 23 45 67 89", "https://www.fabrikam.example/support"},
		{"camelCase on /support", supportPath, camelBody, "help@fabrikam.example", "(425) 555-0100", "www.fabrikam.example"},
		{"PascalCase on /supportprofile", supportPutPath, pascalBody, "help@fabrikam.example", "+33 1 23 45 67 89", "https://www.fabrikam.example/support"},
		{"camelCase on /supportprofile", supportPutPath, camelBody, "help@fabrikam.example", "(425) 555-0100", "www.fabrikam.example"},
		{"odd case, BOM, unknown members", "/V1/Profiles/Support",
			"\uFEFF" + `{"EMAIL":"a@b.example","tElEpHoNe":"4255550199","Website":"b.example","Unknown":{"x":1},"profileType":"other","Attributes":{"ObjectType":"X","etag":"1"}}`,
			"a@b.example", "4255550199", "b.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEmulator(t, Options{})
			token := userToken(t, tenantA, adminOID)
			rec := serve(t, e, request{method: http.MethodPut, path: tt.path, token: token, body: tt.body})
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d: %s", rec.Code, rec.Body)
			}
			email, telephone, website := e.Profile(tenantA)
			if email != tt.email || telephone != tt.telephone || website != tt.website {
				t.Errorf("stored %q %q %q", email, telephone, website)
			}
			stored := e.StoredJSON(tenantA)
			if !bytes.Equal(rec.Body.Bytes(), stored) {
				t.Errorf("PUT answered %s, stored %s", rec.Body, stored)
			}
			// Unknown members are dropped and the fixed members keep their values.
			var got map[string]any
			if err := json.Unmarshal(stored, &got); err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(got))
			for k := range got {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"attributes", "email", "links", "profileType", "telephone", "website"}; !slices.Equal(keys, want) {
				t.Errorf("members = %v, want %v", keys, want)
			}
			if got["profileType"] != "support_profile" || !bytes.Contains(stored, []byte(`"attributes":{"objectType":"PartnerSupportProfile"}`)) {
				t.Errorf("fixed members changed: %s", stored)
			}
			if rec := serve(t, e, request{token: token}); rec.Body.String() != string(stored) {
				t.Errorf("GET after PUT = %s", rec.Body)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	long := strings.Repeat("a", 250)
	tests := []struct {
		name, body string
		code       string
		mentions   []string
	}{
		{"not JSON", `email=a@b.example`, "800002", nil},
		{"truncated JSON", `{"email":"a@b.example"`, "800002", nil},
		{"array", `[{"email":"a@b.example"}]`, "800002", nil},
		{"null", `null`, "800002", nil},
		{"empty", ``, "800002", nil},
		{"all missing", `{}`, "3000", []string{"'Email' is required", "'Telephone' is required", "'Website' is required"}},
		{"null and empty", `{"email":null,"telephone":"","website":"x.example"}`, "3000", []string{"'Email' is required", "'Telephone' is required"}},
		{"not a string", `{"email":42,"telephone":"4255550100","website":"x.example"}`, "3000", []string{"The property 'Email' is invalid: it must be a string"}},
		{"bad email", `{"email":"not-an-address","telephone":"4255550100","website":"x.example"}`, "3000", []string{"The property 'Email' is invalid:"}},
		{"two emails", `{"email":"a@b.example, c@d.example","telephone":"4255550100","website":"x.example"}`, "3000", []string{"'Email' is invalid"}},
		{"long email", `{"email":"` + long + `@b.example","telephone":"4255550100","website":"x.example"}`, "3000", []string{"'Email' is invalid", "254"}},
		{"letters in phone", `{"email":"a@b.example","telephone":"call me","website":"x.example"}`, "3000", []string{"The property 'Telephone' is invalid:"}},
		{"short phone", `{"email":"a@b.example","telephone":"123","website":"x.example"}`, "3000", []string{"'Telephone' is invalid", "4 and 15"}},
		{"bad website scheme", `{"email":"a@b.example","telephone":"4255550100","website":"ftp://x.example"}`, "3000", []string{"The property 'Website' is invalid:"}},
		{"javascript website", `{"email":"a@b.example","telephone":"4255550100","website":"javascript:alert(1)"}`, "3000", []string{"'Website' is invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEmulator(t, Options{})
			rec := serve(t, e, request{method: http.MethodPut, token: userToken(t, tenantA, adminOID), body: tt.body})
			b := wantError(t, rec, http.StatusBadRequest, tt.code)
			for _, m := range tt.mentions {
				if !strings.Contains(b.Description, m) {
					t.Errorf("description %q does not mention %q", b.Description, m)
				}
			}
			if string(e.StoredJSON(tenantA)) != string(seedProfile.resourceJSON()) {
				t.Error("a refused PUT changed the stored profile")
			}
		})
	}
}

func TestFieldRules(t *testing.T) {
	tests := []struct {
		check   func(string) string
		valid   []string
		invalid []string
	}{
		{emailProblem,
			[]string{"support@contoso.example", "first.last+tag@sub.example.com", "o'brien@example.ie", "x@bücher.de"},
			[]string{"plain", "@example.com", "a@", "a@localhost", "a@@b.example", "a b@example.com", ".a@example.com",
				"a..b@example.com", "a@-b.example", "a@b.123", "Name <a@b.example>", " a@b.example", strings.Repeat("a", 65) + "@b.example"}},
		{telephoneProblem,
			[]string{"4255555555", "+33 1 23 45 67 89", "(425) 555-0100", "425.555.0100", "1234", "+123456789012345"},
			[]string{"123", "+1234567890123456", "42+55550100", "425-555-0100 ext 1", "phone", "++4255550100", strings.Repeat("1 ", 16) + "1"}},
		{websiteProblem,
			[]string{"www.microsoft.com", "https://www.example.com", "http://example.com:8080/support?x=1", "example.com/help", "HTTPS://EXAMPLE.COM", "https://192.0.2.1/"},
			[]string{"example", "ftp://example.com", "javascript:alert(1)", "mailto:a@b.example", "https://", "http://user:pw@example.com",
				"www.exa mple.com", "//example.com", "https://exa_mple.com", "https://" + strings.Repeat("a", 250) + ".com"}},
	}
	for _, tt := range tests {
		for _, v := range tt.valid {
			if p := tt.check(v); p != "" {
				t.Errorf("%q refused: %s", v, p)
			}
		}
		for _, v := range tt.invalid {
			if tt.check(v) == "" {
				t.Errorf("%q accepted", v)
			}
		}
	}
}

func TestOversizedBodies(t *testing.T) {
	e := newTestEmulator(t, Options{})
	token := userToken(t, tenantA, adminOID)
	big := `{"email":"a@b.example","telephone":"4255550100","website":"x.example","pad":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	wantError(t, serve(t, e, request{method: http.MethodPut, token: token, body: big}), http.StatusBadRequest, "800002")

	// A chunked body of unknown length is not read past the limit.
	endless := &countingReader{}
	r := httptest.NewRequest(http.MethodPut, supportPath, endless)
	r.ContentLength = -1
	r.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	wantError(t, rec, http.StatusBadRequest, "800002")
	if endless.n > 2*maxBodyBytes {
		t.Errorf("read %d bytes of an endless body", endless.n)
	}
}

// countingReader is an endless body of spaces that counts what was read.
type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	c.n += len(p)
	return len(p), nil
}

func TestRoutes(t *testing.T) {
	e := newTestEmulator(t, Options{})
	token := userToken(t, tenantA, adminOID)
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodGet, supportPath + "/", 200, "", ""},
		{http.MethodDelete, supportPath, 405, "405", "GET, PUT"},
		{http.MethodPost, supportPath, 405, "405", "GET, PUT"},
		{http.MethodGet, supportPutPath, 405, "405", "PUT"},
		{http.MethodGet, "/v1/profiles/legalbusiness", 404, "1000", ""},
		{http.MethodGet, "/", 404, "1000", ""},
	}
	for _, tt := range tests {
		rec := serve(t, e, request{method: tt.method, path: tt.path, token: token})
		if tt.code == "" {
			if rec.Code != tt.status {
				t.Errorf("%s %s = %d", tt.method, tt.path, rec.Code)
			}
			continue
		}
		wantError(t, rec, tt.status, tt.code)
		if got := rec.Header().Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

func TestRoles(t *testing.T) {
	const (
		agentOID    = "aaaaaaaa-0000-0000-0000-000000000010"
		billingOID  = "aaaaaaaa-0000-0000-0000-000000000011"
		helpdeskOID = "aaaaaaaa-0000-0000-0000-000000000012"
	)
	globalAdmin := mint(t, with(userClaims(tenantA, "aaaaaaaa-0000-0000-0000-0000000000ff"),
		map[string]any{"wids": []string{"b79fbf4d-3ef9-4689-8143-76b194e85509", globalAdminTemplateID}}))
	tests := []struct {
		name        string
		defaultRole string
		token       string
		status      int
	}{
		{"AccountAdmin", "", userToken(t, tenantA, adminOID), 200},
		{"AdminAgent", "", userToken(t, tenantA, agentOID), 200},
		{"GlobalAdmin by wids", "", globalAdmin, 200},
		{"SalesAgent", "", userToken(t, tenantA, salesOID), 403},
		{"BillingAdmin", "", userToken(t, tenantA, billingOID), 403},
		{"HelpdeskAgent", "", userToken(t, tenantA, helpdeskOID), 403},
		{"unassigned, read-only default", "", userToken(t, tenantA, readerOID), 403},
		{"unassigned, admin default", "accountadmin", userToken(t, tenantA, readerOID), 200},
		{"assignment is per tenant", "", userToken(t, tenantB, salesOID), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEmulator(t, Options{DefaultRole: tt.defaultRole})
			e.AssignRole(tenantA, agentOID, RoleAdminAgent)
			e.AssignRole(tenantA, billingOID, RoleBillingAdmin)
			e.AssignRole(tenantA, helpdeskOID, RoleHelpdeskAgent)
			e.AssignRole(tenantB, salesOID, RoleGlobalAdmin)
			e.AssignRole(tenantB, salesOID, "") // removed again
			rec := serve(t, e, request{method: http.MethodPut, token: tt.token, body: camelBody})
			if tt.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status = %d: %s", rec.Code, rec.Body)
				}
				return
			}
			b := wantError(t, rec, http.StatusForbidden, "900150")
			for _, role := range []string{"Global admin", "Account admin", "Admin agent"} {
				if !strings.Contains(b.Description, role) {
					t.Errorf("description %q does not name %q", b.Description, role)
				}
			}
			// Every signed-in user may still read.
			if rec := serve(t, e, request{token: tt.token}); rec.Code != http.StatusOK {
				t.Errorf("GET = %d", rec.Code)
			}
		})
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	e := newTestEmulator(t, Options{})
	rec := serve(t, e, request{method: http.MethodPut, token: userToken(t, tenantA, adminOID), body: camelBody})
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT = %d", rec.Code)
	}
	rec = serve(t, e, request{token: userToken(t, tenantB, adminOID)})
	if rec.Body.String() != string(seedProfile.resourceJSON()) {
		t.Errorf("tenant B sees %s", rec.Body)
	}
	if got := e.TenantStats(tenantA); got != (Stats{Puts: 1}) {
		t.Errorf("tenant A stats = %+v", got)
	}
	if got := e.TenantStats(tenantB); got != (Stats{Gets: 1}) {
		t.Errorf("tenant B stats = %+v", got)
	}
	if got := e.Stats(); got != (Stats{Gets: 1, Puts: 1}) {
		t.Errorf("stats = %+v", got)
	}
}

func TestSetProfileAndLastWriterWins(t *testing.T) {
	e := newTestEmulator(t, Options{})
	e.SetProfile(tenantA, "colleague@contoso.example", "n/a", "")
	if email, telephone, website := e.Profile(tenantA); email != "colleague@contoso.example" || telephone != "n/a" || website != "" {
		t.Fatalf("Profile = %q %q %q", email, telephone, website)
	}
	token := userToken(t, tenantA, adminOID)
	if rec := serve(t, e, request{token: token}); !strings.Contains(rec.Body.String(), "colleague@contoso.example") {
		t.Fatalf("GET = %s", rec.Body)
	}
	if rec := serve(t, e, request{method: http.MethodPut, token: token, body: camelBody}); rec.Code != http.StatusOK {
		t.Fatalf("PUT = %d", rec.Code)
	}
	if email, _, _ := e.Profile(tenantA); email != "help@fabrikam.example" {
		t.Errorf("email = %q", email)
	}
}

func TestBOM(t *testing.T) {
	e := newTestEmulator(t, Options{BOM: true})
	for _, rq := range []request{
		{token: userToken(t, tenantA, readerOID)},
		{}, // an error body too
	} {
		rec := serve(t, e, rq)
		body := rec.Body.Bytes()
		if !bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}) {
			t.Fatalf("no BOM: %q", body)
		}
		if !json.Valid(body[3:]) {
			t.Errorf("not JSON after the BOM: %s", body)
		}
	}
	if bytes.HasPrefix(e.StoredJSON(tenantA), []byte{0xEF}) {
		t.Error("StoredJSON has a BOM")
	}
}

func TestRateLimit(t *testing.T) {
	now := testNow
	e := newTestEmulator(t, Options{RateLimit: 2, Now: func() time.Time { return now }})
	tokenA := userToken(t, tenantA, readerOID)
	for i := range 2 {
		if rec := serve(t, e, request{token: tokenA}); rec.Code != http.StatusOK {
			t.Fatalf("request %d = %d", i+1, rec.Code)
		}
	}
	now = testNow.Add(20 * time.Second)
	rec := serve(t, e, request{token: tokenA})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "40" {
		t.Fatalf("third request = %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got, want := rec.Body.String(), `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 40 seconds."}`; got != want {
		t.Errorf("body = %s", got)
	}
	// Per tenant: another tenant is not throttled.
	if rec := serve(t, e, request{token: userToken(t, tenantB, readerOID)}); rec.Code != http.StatusOK {
		t.Errorf("tenant B = %d", rec.Code)
	}
	now = testNow.Add(time.Minute)
	if rec := serve(t, e, request{token: tokenA}); rec.Code != http.StatusOK {
		t.Errorf("after the window = %d", rec.Code)
	}
	if got := e.TenantStats(tenantA); got != (Stats{Gets: 3, Refused: 1}) {
		t.Errorf("stats = %+v", got)
	}
}

func TestOverRealServer(t *testing.T) {
	e := newTestEmulator(t, Options{})
	srv := httptest.NewServer(e)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+supportPutPath, strings.NewReader(pascalBody))
	req.Header.Set("Authorization", "Bearer "+userToken(t, tenantA, adminOID))
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, e.StoredJSON(tenantA)) {
		t.Fatalf("PUT = %d %s", resp.StatusCode, body)
	}
}
