package pcclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"pcsupport/internal/support"
)

// Profile is the support profile: the support contact people edit, and every other member of
// the resource (profileType, links, attributes, anything unknown) kept as it came, in order to be
// sent back unchanged on PUT: the service replaces the whole resource.
//
// Profile is not comparable with ==; compare its Contact.
type Profile struct {
	support.Contact

	// extra holds the other top-level members as raw JSON under their original names, in the
	// order they came.
	extra []member
}

type member struct {
	name  string
	value json.RawMessage
}

// NewProfile returns a fresh profile with contact c, shaped like one Partner Center returns.
func NewProfile(c support.Contact) Profile {
	return Profile{
		Contact: c,
		extra: []member{
			{name: "profileType", value: json.RawMessage(`"support_profile"`)},
			{name: "attributes", value: json.RawMessage(`{"objectType":"PartnerSupportProfile"}`)},
		},
	}
}

// WithContact returns a copy with the support contact replaced and everything else kept.
func (p Profile) WithContact(c support.Contact) Profile {
	q := p
	q.extra = append([]member(nil), p.extra...) // the copy must not share the slice it may grow
	q.Contact = c
	return q
}

// Extra returns a kept member by name: the exact name first, else the first one whose name
// matches case-insensitively (the documented PUT body is PascalCase).
func (p Profile) Extra(name string) (json.RawMessage, bool) {
	i := p.find(name)
	if i < 0 {
		for j, m := range p.extra {
			if strings.EqualFold(m.name, name) {
				i = j
				break
			}
		}
	}
	if i < 0 {
		return nil, false
	}
	return append(json.RawMessage(nil), p.extra[i].value...), true
}

func (p Profile) find(name string) int {
	for i, m := range p.extra {
		if m.name == name {
			return i
		}
	}
	return -1
}

// MarshalJSON writes the contact's fields in camelCase, then the kept members as they came.
func (p Profile) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range support.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, string(f))
		b.WriteByte(':')
		writeJSONString(&b, p.Get(f))
	}
	for _, m := range p.extra {
		b.WriteByte(',')
		writeJSONString(&b, m.name)
		b.WriteByte(':')
		if len(m.value) == 0 {
			b.WriteString("null")
		} else {
			b.Write(m.value)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSONString writes s as a JSON string without HTML escaping, so "&" in a URL stays "&".
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes; writes to a bytes.Buffer never fail
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

// UnmarshalJSON reads a profile object. Member names are matched case-insensitively, as the
// service does, and one leading UTF-8 BOM is tolerated. (json.Unmarshal checks the syntax before
// calling this method and rejects a BOM; call p.UnmarshalJSON directly on a raw body.)
func (p *Profile) UnmarshalJSON(b []byte) error {
	return p.decode(bytes.TrimPrefix(b, utf8BOM))
}

// decode reads a JSON object member by member, so the kept members stay in their order.
func (p *Profile) decode(b []byte) error {
	if !json.Valid(b) {
		// Unmarshal into nothing only to get json's precise syntax error.
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("decode profile: %w", err)
		}
		return errors.New("decode profile: invalid JSON")
	}
	var out Profile
	err := eachMember(b, func(name string, raw []byte) error {
		f, isContact := contactField(name)
		if !isContact {
			out.keep(name, append(json.RawMessage(nil), raw...))
			return nil
		}
		v, err := contactValue(raw)
		if err != nil {
			return fmt.Errorf("decode profile: member %q: %w", name, err)
		}
		out.Contact = out.With(f, v)
		return nil
	})
	if err != nil {
		return err
	}
	*p = out
	return nil
}

var errNotObject = errors.New("decode profile: not a JSON object")

// contactField names the contact's field a member holds, its name matched as the service does.
func contactField(name string) (support.Field, bool) {
	for _, f := range support.Fields {
		if strings.EqualFold(name, string(f)) {
			return f, true
		}
	}
	return "", false
}

// eachMember calls fn with the name and raw value of each member of a JSON object, in order.
// b must be valid JSON (json.Valid): the walk then needs no checks of its own, and costs none of
// a json.Decoder's per-token allocations.
func eachMember(b []byte, fn func(name string, raw []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	if i = skipSpace(b, i+1); b[i] == '}' {
		return nil
	}
	for {
		end := stringEnd(b, i)
		name, err := jsonString(b[i:end])
		if err != nil {
			return fmt.Errorf("decode profile: %w", err)
		}
		i = skipSpace(b, skipSpace(b, end)+1) // past the colon
		valueEnd := valueEnd(b, i)
		if err := fn(name, b[i:valueEnd]); err != nil {
			return err
		}
		if i = skipSpace(b, valueEnd); b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1) // past the comma
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i // a number, true, false or null
	for j < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[j])) {
		j++
	}
	return j
}

// jsonString reads a JSON string; a plain ASCII one directly, any other as json does (escapes,
// invalid UTF-8).
func jsonString(raw []byte) (string, error) {
	inner := raw[1 : len(raw)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// keep stores a member; a repeated name replaces the earlier value, as json does.
func (p *Profile) keep(name string, raw json.RawMessage) {
	if i := p.find(name); i >= 0 {
		p.extra[i].value = raw
		return
	}
	p.extra = append(p.extra, member{name: name, value: raw})
}

// contactValue accepts a string, null (empty) or a number (a phone number sent bare).
func contactValue(raw json.RawMessage) (string, error) {
	switch {
	case bytes.Equal(raw, []byte("null")):
		return "", nil
	case len(raw) > 0 && raw[0] == '"':
		return jsonString(raw)
	case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		return string(raw), nil
	}
	return "", errors.New("not a string")
}
