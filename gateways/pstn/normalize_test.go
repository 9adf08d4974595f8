package pstn

import (
	"errors"
	"testing"
)

func TestParseDialled(t *testing.T) {
	for _, tc := range []struct {
		in, digits, ctx string
		err             error
	}{
		{"912065550100", "912065550100", "", nil},
		{"+1 (206) 555-0100", "+12065550100", "", nil},
		{"tel:+1-206-555-0100", "+12065550100", "", nil},
		{"TEL:+1.206.555.0100;ext=12", "+12065550100", "", nil},
		{"tel:5550100;phone-context=sea.example.com", "5550100", "sea.example.com", nil},
		{"tel:5550100;Phone-Context=+1206", "5550100", "+1206", nil},
		{"sip:912065550100@example.com", "912065550100", "", nil},
		{"<sip:+12065550100@example.com;user=phone>", "+12065550100", "", nil},
		{"sips:5550100;phone-context=sea.example.com@example.com;user=phone", "5550100", "sea.example.com", nil},
		{"sip:5550100@example.com;phone-context=sea.example.com", "5550100", "sea.example.com", nil},
		{"sip:%2A1@example.com", "*1", "", nil},
		{"sip:1234:secret@example.com", "1234", "", nil},
		{"*67#", "*67#", "", nil},
		{"sip:example.com", "", "", ErrNotANumber},
		{"sip:alice@example.com", "", "", ErrNotANumber},
		{"tel:+", "", "", ErrNotANumber},
		{"", "", "", ErrNotANumber},
		{"1+2", "", "", ErrNotANumber},
		{"12\x0034", "", "", ErrNotANumber},
	} {
		d, err := ParseDialled(tc.in)
		if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
			t.Errorf("%q: err %v, want %v", tc.in, err, tc.err)
			continue
		}
		if d.Digits != tc.digits || d.PhoneContext != tc.ctx {
			t.Errorf("%q: %+v, want %q %q", tc.in, d, tc.digits, tc.ctx)
		}
	}
}

func TestNormalize(t *testing.T) {
	pl, err := Compile(loadConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, dialled    string
		number, plan, rl string
		ext              bool
		err              error
	}{
		{"alice@example.com", "912065550100", "+12065550100", "us", "us-ld", false, nil},
		{"alice@example.com", "12065550100", "+12065550100", "us", "us-ld", false, nil},
		{"alice@example.com", "2065550100", "+12065550100", "us", "us-ld", false, nil},
		{"alice@example.com", "sip:912065550100@example.com", "+12065550100", "us", "us-ld", false, nil},
		{"alice@example.com", "+12065550100", "+12065550100", "us", "", false, nil},
		{"alice@example.com", "9011442079460000", "+442079460000", "us", "intl", false, nil},
		{"alice@example.com", "1234", "1234", "us", "internal", true, nil},
		{"alice@example.com", "5550100", "", "us", "", false, ErrNoRule},
		{"alice@example.com", "tel:5550100;phone-context=sea.example.com", "+12065550100", "seattle", "local7", false, nil},
		{"alice@example.com", "tel:5550100;phone-context=SEATTLE", "+12065550100", "seattle", "local7", false, nil},
		{"alice@example.com", "tel:2065550100;phone-context=elsewhere", "+12065550100", "us", "us-ld", false, nil},
		{"bob@example.com", "95550100", "+12065550100", "seattle", "local7", false, nil},
		{"carol@example.com", "*1", "+12065550142", "carol-plan", "speed-dial", false, nil},
		{"carol@example.com", "2065550100", "", "carol-plan", "", false, ErrNoRule},
		{"nobody@example.com", "2065550100", "+12065550100", "us", "us-ld", false, nil},
		{"alice@example.com", "+0123", "", "us", "", false, ErrNotANumber},
		{"alice@example.com", "+1234567890123456", "", "us", "", false, ErrNotANumber},
	} {
		n, err := pl.Normalize(tc.user, tc.dialled)
		if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
			t.Errorf("%s %q: err %v, want %v", tc.user, tc.dialled, err, tc.err)
			continue
		}
		if n.Number != tc.number || n.DialPlan != tc.plan || n.Rule != tc.rl || n.Extension != tc.ext {
			t.Errorf("%s %q: %+v", tc.user, tc.dialled, n)
		}
	}
}

// A rule whose translation makes no E.164 number is a call-time error
// (the translation has groups, so Validate cannot tell).
func TestNormalizeRuleMakesNoNumber(t *testing.T) {
	pl, err := Compile(&Config{DialPlans: []DialPlan{{Name: "p", Scope: ScopeGlobal, Rules: []Rule{
		{Name: "bad", Pattern: `^(\d+)$`, Translation: "$1"},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Normalize("a@b", "12"); !errors.Is(err, ErrNotANumber) {
		t.Fatalf("%v", err)
	}
	// no dial plan at all: global numbers only
	pl, _ = Compile(&Config{})
	if n, err := pl.Normalize("a@b", "+12065550100"); err != nil || n.Number != "+12065550100" {
		t.Fatalf("%+v %v", n, err)
	}
	if _, err := pl.Normalize("a@b", "2065550100"); !errors.Is(err, ErrNoRule) {
		t.Fatalf("%v", err)
	}
}

func BenchmarkNormalize100Rules(b *testing.B) {
	c := benchConfig(100, 10)
	pl, err := Compile(c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pl.Normalize("u0@example.com", "912065550100"); err != nil {
			b.Fatal(err)
		}
	}
}
