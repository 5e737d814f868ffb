package pcemu

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	supportPath = "/v1/profiles/support"
	// supportPutPath is the PUT path named by the "Update support profile" doc page.
	supportPutPath = "/v1/profiles/supportprofile"
	maxBodyBytes   = 64 << 10
)

var seedProfile = profile{
	Email:     "support@contoso-partner.example",
	Telephone: "4255550100",
	Website:   "www.contoso-partner.example",
}

// profile is what the service stores; the rest of the resource is fixed.
type profile struct {
	Email, Telephone, Website string
}

// resource is the documented camelCase shape, members in the documented order.
type resource struct {
	Email       string     `json:"email"`
	Telephone   string     `json:"telephone"`
	Website     string     `json:"website"`
	ProfileType string     `json:"profileType"`
	Links       links      `json:"links"`
	Attributes  attributes `json:"attributes"`
}

type links struct {
	Self link `json:"self"`
}

type link struct {
	URI     string   `json:"uri"`
	Method  string   `json:"method"`
	Headers []string `json:"headers"`
}

type attributes struct {
	ObjectType string `json:"objectType"`
}

func (p profile) resource() resource {
	return resource{
		Email:       p.Email,
		Telephone:   p.Telephone,
		Website:     p.Website,
		ProfileType: "support_profile",
		Links:       links{Self: link{URI: supportPath, Method: "GET", Headers: []string{}}},
		Attributes:  attributes{ObjectType: "PartnerSupportProfile"},
	}
}

func (p profile) resourceJSON() []byte {
	return marshal(p.resource())
}

// marshal encodes like the .NET service: no HTML escaping, no trailing newline.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("pcemu: marshal: " + err.Error()) // only our own types are encoded
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// putBody picks the three stored members. encoding/json matches member names
// case-insensitively, as the service does (PascalCase and camelCase both
// work); other members, ProfileType and Attributes included, are ignored.
type putBody struct {
	Email     json.RawMessage `json:"email"`
	Telephone json.RawMessage `json:"telephone"`
	Website   json.RawMessage `json:"website"`
}

// parseProfile decodes and validates a PUT body. All problems are reported
// in one description, each naming its property.
func parseProfile(body []byte) (profile, *apiError) {
	body = bytes.TrimPrefix(body, []byte("\uFEFF"))
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return profile{}, errBadInput("The request body is empty; send the support profile as JSON.")
	}
	var in putBody
	if trimmed[0] != '{' || json.Unmarshal(trimmed, &in) != nil {
		return profile{}, errBadInput("The request body is not a valid JSON support profile.")
	}
	var p profile
	var problems []string
	for _, field := range []struct {
		name  string
		raw   json.RawMessage
		check func(string) string
		dst   *string
	}{
		{"Email", in.Email, emailProblem, &p.Email},
		{"Telephone", in.Telephone, telephoneProblem, &p.Telephone},
		{"Website", in.Website, websiteProblem, &p.Website},
	} {
		v, problem := stringValue(field.raw)
		if problem == "" {
			problem = field.check(v)
		}
		switch problem {
		case "":
			*field.dst = v
		case "required":
			problems = append(problems, "The property '"+field.name+"' is required.")
		default:
			problems = append(problems, "The property '"+field.name+"' is invalid: "+problem)
		}
	}
	if len(problems) > 0 {
		return profile{}, &apiError{400, "3000", strings.Join(problems, " ")}
	}
	return p, nil
}

// stringValue treats absent, null and "" alike as missing.
func stringValue(raw json.RawMessage) (string, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", "required"
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", "it must be a string."
	}
	if s == "" {
		return "", "required"
	}
	return s, ""
}

func emailProblem(s string) string {
	const want = "it must be one email address with a domain, such as support@example.com."
	if utf8.RuneCountInString(s) > 254 {
		return "it must be at most 254 characters."
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || !validLocalPart(local) || !validDomain(domain) {
		return want
	}
	return ""
}

func validLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		isAtext := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune(".!#$%&'*+-/=?^_`{|}~", r))
		if !isAtext {
			return false
		}
	}
	return true
}

// validDomain accepts a DNS name of two labels or more; letters may be
// Unicode so that internationalised domains pass.
func validDomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || utf8.RuneCountInString(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.IndexFunc(tld, unicode.IsLetter) >= 0
}

func telephoneProblem(s string) string {
	if len(s) > 32 {
		return "it must be at most 32 characters."
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case strings.ContainsRune(" -.()", r):
		default:
			return "use digits, with optional spaces, dashes, dots, parentheses and a leading +."
		}
	}
	if digits < 4 || digits > 15 {
		return "it must have between 4 and 15 digits."
	}
	return ""
}

func websiteProblem(s string) string {
	const want = "it must be a host name such as www.example.com, or an http or https URL."
	if utf8.RuneCountInString(s) > 256 {
		return "it must be at most 256 characters."
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return want
	}
	// Without a scheme it must still read as a host (and optional path), so
	// "javascript:..." or "mailto:..." fail to parse or carry user info.
	raw := s
	if !strings.Contains(s, "://") {
		raw = "http://" + s
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" {
		return want
	}
	host := u.Hostname()
	if !validDomain(host) && net.ParseIP(host) == nil {
		return want
	}
	return ""
}
