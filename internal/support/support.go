// Package support holds the app's domain: the support contact that Microsoft shows a partner's
// customers when they need help. The Partner Center client, the change history and the handlers
// all speak of it in these words; it imports nothing of the app's.
package support

// Contact is the support contact: the three details of the support profile that people see and
// edit. It is comparable with ==.
type Contact struct {
	Email     string `json:"email"`
	Telephone string `json:"telephone"`
	Website   string `json:"website"`
}

// Field names one detail of a Contact, as forms, exports and Partner Center's JSON name it.
type Field string

const (
	Email     Field = "email"
	Telephone Field = "telephone"
	Website   Field = "website"
)

// Fields are the details in the order they are shown.
var Fields = []Field{Email, Telephone, Website}

// Get returns the value of f.
func (c Contact) Get(f Field) string {
	switch f {
	case Email:
		return c.Email
	case Telephone:
		return c.Telephone
	case Website:
		return c.Website
	}
	return ""
}

// With returns a copy of c with f set to v.
func (c Contact) With(f Field, v string) Contact {
	switch f {
	case Email:
		c.Email = v
	case Telephone:
		c.Telephone = v
	case Website:
		c.Website = v
	}
	return c
}

// Changed lists the details whose values differ between c and other, in the order of Fields.
func (c Contact) Changed(other Contact) []Field {
	var changed []Field
	for _, f := range Fields {
		if c.Get(f) != other.Get(f) {
			changed = append(changed, f)
		}
	}
	return changed
}
