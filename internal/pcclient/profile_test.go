package pcclient

import (
	"encoding/json"
	"strings"
	"testing"

	"pcsupport/internal/support"
)

func TestProfileUnmarshalCaseInsensitive(t *testing.T) {
	for _, body := range []string{
		`{"email":"e","telephone":"t","website":"w"}`,
		`{"Email":"e","Telephone":"t","Website":"w"}`,
		`{"EMAIL":"e","TELEPHONE":"t","WEBSITE":"w"}`,
		"\xEF\xBB\xBF" + `{"eMail":"e","telePhone":"t","webSite":"w"}`,
	} {
		var p Profile
		if err := p.UnmarshalJSON([]byte(body)); err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if p.Email != "e" || p.Telephone != "t" || p.Website != "w" || len(p.extra) != 0 {
			t.Errorf("%s: got %+v", body, p)
		}
	}
}

func TestProfileUnmarshalValues(t *testing.T) {
	var p Profile
	if err := json.Unmarshal([]byte(`{"email":null,"telephone":4255555555,"website":"w","x":1,"x":2}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Email != "" || p.Telephone != "4255555555" {
		t.Errorf("got %+v", p)
	}
	if raw, ok := p.Extra("x"); !ok || string(raw) != "2" || len(p.extra) != 1 {
		t.Errorf("repeated member: %s, %d kept", raw, len(p.extra))
	}
	for _, bad := range []string{`{"email":true}`, `{"website":[]}`, `[]`, `null`, `{"a":1}x`, `{"a":}`, ``, "\xEF\xBB\xBF\xEF\xBB\xBF{}"} {
		var q Profile
		if err := q.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProfileMarshal(t *testing.T) {
	got, err := json.Marshal(NewProfile(support.Contact{Email: "a@b.example", Telephone: "+33 1 23 45 67 89", Website: "www.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"email":"a@b.example","telephone":"+33 1 23 45 67 89","website":"www.example.com",` +
		`"profileType":"support_profile","attributes":{"objectType":"PartnerSupportProfile"}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	zero, err := Profile{}.MarshalJSON()
	if err != nil || string(zero) != `{"email":"","telephone":"","website":""}` {
		t.Errorf("zero profile: %s, %v", zero, err)
	}
	// No HTML escaping of what people type.
	amp, _ := Profile{Contact: support.Contact{Website: "https://x.example/?a=1&b=<2>"}}.MarshalJSON()
	if !strings.Contains(string(amp), `"https://x.example/?a=1&b=<2>"`) {
		t.Errorf("escaped: %s", amp)
	}
}

func TestProfileRoundTripOrderAndBytes(t *testing.T) {
	in := `{"profileType":"support_profile","Email":"e","links":{"self":{"uri":"/v1/profiles/support"}},` +
		`"telephone":"t","attributes":{"objectType":"PartnerSupportProfile","etag":"\"1\""},"website":"w","someFutureField":[1,{"a":null}]}`
	var p Profile
	if err := p.UnmarshalJSON([]byte(in)); err != nil {
		t.Fatal(err)
	}
	out, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"email":"e","telephone":"t","website":"w","profileType":"support_profile",` +
		`"links":{"self":{"uri":"/v1/profiles/support"}},"attributes":{"objectType":"PartnerSupportProfile","etag":"\"1\""},` +
		`"someFutureField":[1,{"a":null}]}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

func TestWithContactsDoesNotAlias(t *testing.T) {
	p := NewProfile(support.Contact{Email: "a", Telephone: "b", Website: "c"})
	q := p.WithContact(support.Contact{Email: "x", Telephone: "y", Website: "z"})
	q.keep("added", json.RawMessage(`1`))
	q.extra[0].value = json.RawMessage(`"changed"`)
	if raw, _ := p.Extra("profileType"); string(raw) != `"support_profile"` {
		t.Errorf("original changed: %s", raw)
	}
	if _, ok := p.Extra("added"); ok {
		t.Error("original grew")
	}
	if p.Email != "a" || q.Email != "x" || q.Telephone != "y" || q.Website != "z" {
		t.Errorf("p %+v q %+v", p, q)
	}
}

func TestExtra(t *testing.T) {
	var p Profile
	if err := p.UnmarshalJSON([]byte(`{"ProfileType":"support_profile","profiletype":"other","Attributes":{"ObjectType":"PartnerSupportProfile"}}`)); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"ProfileType": `"support_profile"`,
		"profiletype": `"other"`,
		"profileType": `"support_profile"`, // no exact match: the first case-insensitive one
		"attributes":  `{"ObjectType":"PartnerSupportProfile"}`,
	} {
		if raw, ok := p.Extra(name); !ok || string(raw) != want {
			t.Errorf("Extra(%q) = %s, %v; want %s", name, raw, ok, want)
		}
	}
	if _, ok := p.Extra("email"); ok {
		t.Error("the contact fields are not extras")
	}
	raw, _ := p.Extra("ProfileType")
	raw[1] = 'X'
	if again, _ := p.Extra("ProfileType"); string(again) != `"support_profile"` {
		t.Error("Extra returned the profile's own bytes")
	}
}
