package pcclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// OrganizationProfile is what the app reads of the partner's organization profile: the names
// people know the company by, and where it is. Nothing of it is ever written back.
type OrganizationProfile struct {
	CompanyName string
	Domain      string // e.g. contoso.onmicrosoft.com
	// Country is defaultAddress.country, ISO 3166 alpha-2 in upper case ("US", "FR"); "" when
	// Partner Center gives none or something else.
	Country  string
	Culture  string // e.g. "en-US"
	Language string // e.g. "en"
}

// maxOrganizationText bounds each value kept: they are shown in every page's header.
const maxOrganizationText = 256

// organizationBody is the part of the resource the app reads. encoding/json matches member
// names without regard to case, as the service does.
type organizationBody struct {
	CompanyName    json.RawMessage `json:"companyName"`
	Domain         json.RawMessage `json:"domain"`
	Culture        json.RawMessage `json:"culture"`
	Language       json.RawMessage `json:"language"`
	DefaultAddress *struct {
		Country json.RawMessage `json:"country"`
	} `json:"defaultAddress"`
}

// decodeOrganizationProfile decodes a success body, naming the common ways a body is not one.
func decodeOrganizationProfile(body []byte) (OrganizationProfile, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	if err := bodyShape(body); err != nil {
		return OrganizationProfile{}, err
	}
	trimmed := bytes.TrimSpace(body)
	if trimmed[0] != '{' {
		return OrganizationProfile{}, errors.New("decode organization profile: not a JSON object")
	}
	var in organizationBody
	if err := json.Unmarshal(trimmed, &in); err != nil {
		return OrganizationProfile{}, fmt.Errorf("decode organization profile: %w", err)
	}
	text := func(raw json.RawMessage) string {
		return truncateRunes(cleanText(jsonScalar(raw, false)), maxOrganizationText)
	}
	p := OrganizationProfile{CompanyName: text(in.CompanyName), Domain: text(in.Domain),
		Culture: text(in.Culture), Language: text(in.Language)}
	if in.DefaultAddress != nil {
		p.Country = countryCode(jsonScalar(in.DefaultAddress.Country, false))
	}
	return p, nil
}

// countryCode returns s in upper case when it is two ASCII letters, else "".
func countryCode(s string) string {
	if len(s) != 2 {
		return ""
	}
	s = strings.ToUpper(s)
	for i := range 2 {
		if s[i] < 'A' || s[i] > 'Z' {
			return ""
		}
	}
	return s
}
