package pstn

import (
	"regexp"
	"testing"
)

func TestTemplate(t *testing.T) {
	for _, tc := range []struct {
		pattern, tr, in, want string
		bad                   bool
	}{
		{`^9?1?(\d{10})$`, "+1$1", "912065550100", "+12065550100", false},
		{`^(\d{3})(\d{4})$`, "+1206$1$2", "5550100", "+12065550100", false},
		{`^(\d)(\d)(\d)(\d)(\d)(\d)(\d)(\d)(\d)(\d)(\d)(\d)$`, "${12}$1", "123456789012", "21", false},
		{`^(?P<n>\d+)$`, "+${n}", "44", "+44", false},
		{`^(\d+)(x)?$`, "+$1$2", "44", "+44", false}, // an unmatched group is empty
		{`^(\d+)$`, "$$$1", "5", "$5", false},
		{`^(\d+)$`, "+$10", "5", "+50", false}, // $1 then 0, not group 10
		{`^(\d+)$`, "+$2", "", "", true},
		{`^(\d+)$`, "+${1", "", "", true},
		{`^(\d+)$`, "+$x", "", "", true},
		{`^(\d+)$`, "+$", "", "", true},
	} {
		re := regexp.MustCompile(tc.pattern)
		tpl, err := compileTemplate(tc.tr, re)
		if (err != nil) != tc.bad {
			t.Errorf("%q: %v", tc.tr, err)
			continue
		}
		if tc.bad {
			continue
		}
		if got := tpl.expand(tc.in, re.FindStringSubmatchIndex(tc.in)); got != tc.want {
			t.Errorf("%q on %q = %q, want %q", tc.tr, tc.in, got, tc.want)
		}
	}
}

func TestNumberFormat(t *testing.T) {
	us := numberFormat{NumberFormat{Format: FormatNational, Country: "US", InternationalPrefix: "011"}, "1"}
	us1 := numberFormat{NumberFormat{Format: FormatNational, Country: "US", NationalPrefix: "1"}, "1"}
	gb := numberFormat{NumberFormat{Format: FormatNational, Country: "GB", NationalPrefix: "0", InternationalPrefix: "00"}, "44"}
	digits := numberFormat{NumberFormat: NumberFormat{Format: FormatDigits, Prefix: "7788#"}}
	e164 := numberFormat{}
	for _, tc := range []struct {
		name   string
		f      numberFormat
		e164   string
		out    string
		inward bool // out reads back to e164
	}{
		{"e164", e164, "+12065550100", "+12065550100", true},
		{"digits with prefix", digits, "+12065550100", "7788#12065550100", true},
		{"us national", us, "+12065550100", "2065550100", true},
		{"us abroad", us, "+442079460000", "011442079460000", true},
		{"us 11 digits", us1, "+12065550100", "12065550100", true},
		{"us1 abroad stays e164", us1, "+442079460000", "+442079460000", true},
		{"gb national", gb, "+442079460000", "02079460000", true},
		{"gb abroad", gb, "+12065550100", "0012065550100", true},
	} {
		out := tc.f.Outward(tc.e164)
		if out != tc.out {
			t.Errorf("%s: outward %q, want %q", tc.name, out, tc.out)
		}
		back, ok := tc.f.Inward(out)
		if tc.inward && (!ok || back != tc.e164) {
			t.Errorf("%s: inward %q = %q %v, want %q", tc.name, out, back, ok, tc.e164)
		}
	}
	for _, tc := range []struct {
		f        numberFormat
		in, want string
		ok       bool
	}{
		{us, "2065550123", "+12065550123", true},
		{us1, "2065550123", "+12065550123", true},
		{us1, "12065550123", "+12065550123", true},
		{digits, "7788#12065550123", "+12065550123", true},
		{e164, "12065550123", "+12065550123", true},
		{e164, "anonymous", "", false},
		{e164, "", "", false},
		{e164, "+", "+", false},
		{gb, "0", "", false},
	} {
		got, ok := tc.f.Inward(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("inward %q: %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
