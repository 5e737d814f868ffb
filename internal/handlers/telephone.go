package handlers

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// telephoneCheck is what a typed telephone number is checked against. Partner Center documents
// no rule of its own, so the rule is the world's numbering plans (libphonenumber): a number that
// can be dialled passes, junk does not, and a number written as dialled within the partner's
// country is offered in international form, which customers anywhere can dial, before it is
// saved; never changed without the person seeing it.
type telephoneCheck struct {
	// region is the partner's country, ISO 3166 alpha-2, from its organization profile: how a
	// number without + is read. "" when Partner Center has not told it (yet; or a country
	// libphonenumber does not know): a number with + is still checked in full, but one without
	// can only be checked loosely (digits, spaces, dashes, dots, brackets; 4 to 15 digits) and
	// cannot be offered in international form. Refusing it instead would refuse real numbers
	// Partner Center takes, in the rare moments the country is unknown: the first seconds after
	// this process starts, or an organization profile Partner Center does not give.
	region string
	// loaded is the number the form was loaded with (loadedKnown: the form says so). It passes
	// unchecked: Partner Center holds it already, and refusing it would block every other
	// change until someone retyped a number they never touched.
	loaded      string
	loadedKnown bool
	// asTyped: the person saw the international form offered and chose to keep theirs.
	asTyped bool
}

// telephoneText is what the form has always asked for: digits, with spaces, dashes, dots and
// brackets, and a leading +. It keeps out letters and extensions, which Partner Center's own
// checks may refuse.
var telephoneText = regexp.MustCompile(`^\+?[0-9 ().\-]+$`)

// check says what is wrong with the typed number v, or offers its international form.
func (tc telephoneCheck) check(v string) (problem, bool) {
	if tc.loadedKnown && v == tc.loaded {
		return problem{}, false
	}
	international := strings.HasPrefix(v, "+")
	region := tc.region
	if international || phonenumbers.GetExampleNumber(region) == nil {
		region = phonenumbers.UNKNOWN_REGION
	}
	if !international && region == phonenumbers.UNKNOWN_REGION {
		if plainTelephone(v) {
			return problem{}, false
		}
		return problem{id: "valid.telephone.countryUnknown"}, true
	}
	num, err := phonenumbers.Parse(v, region)
	switch {
	case err != nil || !telephoneText.MatchString(v) || !balancedBrackets(v) || !phonenumbers.IsValidNumber(num):
		return tc.invalid(v, region, num), true
	case international || tc.asTyped:
		return problem{}, false
	}
	offer := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
	return problem{id: "valid.telephone.offer", args: []any{"Suggested", offer, "Typed", v}, suggest: offer, keep: v}, true
}

// invalid explains a number that cannot be dialled, with an example of the country it is meant
// for: the one its + code names, else the partner's.
func (tc telephoneCheck) invalid(v, region string, num *phonenumbers.PhoneNumber) problem {
	if strings.HasPrefix(v, "+") && num != nil {
		code := int(num.GetCountryCode())
		if example := phonenumbers.GetExampleNumber(phonenumbers.GetRegionCodeForCountryCode(code)); example != nil {
			return problem{id: "valid.telephone.calling", args: []any{"Code", "+" + strconv.Itoa(code),
				"Example", phonenumbers.Format(example, phonenumbers.INTERNATIONAL)}}
		}
	}
	if !strings.HasPrefix(v, "+") {
		example := phonenumbers.GetExampleNumber(region)
		return problem{id: "valid.telephone.national", args: []any{"National", phonenumbers.Format(example, phonenumbers.NATIONAL),
			"International", phonenumbers.Format(example, phonenumbers.INTERNATIONAL)}}
	}
	return problem{id: "valid.telephone"}
}

// plainTelephone is the loose check of a number whose country is not known: the form's
// characters, brackets that close, and 4 to 15 digits (the most a number has, by ITU E.164).
func plainTelephone(v string) bool {
	digits := 0
	for _, r := range v {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return telephoneText.MatchString(v) && balancedBrackets(v) && digits >= 4 && digits <= 15
}

// balancedBrackets reports that every bracket closes one opened before it.
func balancedBrackets(v string) bool {
	depth := 0
	for _, r := range v {
		switch r {
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// validateForm checks a submitted form, its telephone against the partner's country as this
// process knows it (see organizations).
func (h *Handlers) validateForm(tenantID string, f profileForm) fieldErrors {
	org, _ := h.organizations.lookup(tenantID)
	return validate(f.typed, telephoneCheck{region: org.Country, loaded: f.loaded.Telephone, loadedKnown: f.loadedOK,
		asTyped: f.keepTelephone})
}
