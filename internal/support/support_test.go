package support

import (
	"reflect"
	"testing"
)

func TestContactFields(t *testing.T) {
	c := Contact{Email: "a@contoso.example", Telephone: "+1 425 555 0100", Website: "www.contoso.example"}
	for _, f := range Fields {
		if got := c.With(f, "x").Get(f); got != "x" {
			t.Errorf("With(%s, x).Get(%s) = %q", f, f, got)
		}
	}
	if c.Get("fax") != "" || c.With("fax", "x") != c {
		t.Error("an unknown field reads or writes something")
	}
	other := c.With(Telephone, "+1 425 555 0101").With(Website, "https://contoso.example")
	if got := c.Changed(other); !reflect.DeepEqual(got, []Field{Telephone, Website}) {
		t.Errorf("Changed = %v, want telephone then website", got)
	}
	if got := c.Changed(c); got != nil {
		t.Errorf("Changed of equal contacts = %v", got)
	}
}
