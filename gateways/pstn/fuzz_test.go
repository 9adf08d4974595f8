package pstn

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzNormalize: any dialled string either fails with ErrNotANumber or
// ErrNoRule, or normalizes to an E.164 number or an extension, and
// parsing never panics.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"912065550100", "+12065550100", "tel:+1-206-555-0100",
		"tel:5550100;phone-context=sea.example.com", "sip:912065550100@example.com",
		"sip:+12065550100@example.com;user=phone", "<sips:%2A1@x>", "*67#", "1234", ""} {
		f.Add(s, "alice@example.com")
	}
	cfg := loadConfig(f)
	pl, err := Compile(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, dialled, user string) {
		n, err := pl.Normalize(user, dialled)
		if err != nil {
			if !errors.Is(err, ErrNotANumber) && !errors.Is(err, ErrNoRule) {
				t.Fatalf("%q: unexpected error %v", dialled, err)
			}
			return
		}
		if !n.Extension && !isE164(n.Number) {
			t.Fatalf("%q -> %+v", dialled, n)
		}
		for _, c := range n.Dialled.Digits {
			if !strings.ContainsRune("+0123456789*#", c) {
				t.Fatalf("%q: digits %q", dialled, n.Dialled.Digits)
			}
		}
		if !n.Extension {
			// a valid number routes or is refused with a reason, never panics
			pl.Explain(user, dialled, dialled, func(gw string) bool { return len(gw)%2 == 0 })
		}
	})
}

// FuzzDecodeConfig: a decoded document validates or not without
// panicking; a valid one compiles, routes and survives a JSON round
// trip unchanged.
func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"dial_plans":[{"name":"p","scope":"global","rules":[{"name":"r","pattern":"^(\\d+)$","translation":"+$1"}]}]}`))
	f.Add([]byte(`{"trunks":[{"name":"t","address":"sip:h;transport=tcp","failover":{"timer":"3s"}}],"routes":[{"name":"r","usages":["u"],"prefix":"+","gateways":{"members":[{"trunk":"t"}]}}],"policies":[{"name":"p","default":true,"usages":["u"]}],"users":[{"name":"a@b"}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := Decode(bytes.NewReader(doc))
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				t.Fatalf("%v", err)
			}
			return
		}
		pl, err := Compile(c, "self.example")
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("%v does not wrap ErrConfig", err)
			}
			return
		}
		for _, u := range c.Users {
			pl.Explain(u.Name, "+12065550100", "id", nil)
			pl.Explain(u.Name, "912065550100", "id", nil)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(c2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the document:\n%s\n%s", b, b2)
		}
		if err := c2.Validate("self.example"); err != nil {
			t.Fatalf("valid, then not after a round trip: %v\n%s", err, b)
		}
	})
}
