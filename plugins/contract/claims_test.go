package contract

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestMatchClaim(t *testing.T) {
	tests := []struct {
		pattern, uri string
		want         bool
	}{
		{"*@xmpp.example.net", "sip:alice@xmpp.example.net", true},
		{"*@xmpp.example.net", "sips:alice@XMPP.example.net", true},
		{"*@xmpp.example.net", "sip:alice@example.net", false},
		{"*@xmpp.example.net", "tel:+15551234", false},
		{"tel:+1*", "tel:+15551234", true},
		{"tel:+1*", "tel:+4930123", false},
		{"tel:+1*", "sip:+15551234@gw.example", false},
		{"sip:+1*@*", "sip:+15551234@gw.example;user=phone", true},
		{"sip:+1*@*", "sips:+15551234@gw.example", false},
		{"sip:+1*@*", "sip:+4930@gw.example", false},
		{"xmpp.example.net", "sip:bob@xmpp.example.net", true},
		{"a*c*e@h", "sip:abcde@h", true},
		{"a*c*e@h", "sip:abde@h", false},
		{"bob@h", "sip:bob@h", true},
		{"bob@h", "sip:bobby@h", false},
	}
	for _, tt := range tests {
		var u sip.Uri
		if err := sip.ParseUri(tt.uri, &u); err != nil {
			t.Fatalf("%s: %v", tt.uri, err)
		}
		if got := MatchClaim(tt.pattern, u); got != tt.want {
			t.Errorf("MatchClaim(%q, %q) = %v, want %v", tt.pattern, tt.uri, got, tt.want)
		}
	}
}

func TestPhoneNumber(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"tel:+1-206-555-0100", "+12065550100"},
		{"tel:5550100;phone-context=+1206", "5550100"},
		{"sip:+1(206)5550100@gw.example;user=phone", "+12065550100"},
		{"sip:912065550100@example.com", ""},
		{"sip:alice@example.com", ""},
	}
	for _, tt := range tests {
		var u sip.Uri
		if err := sip.ParseUri(tt.uri, &u); err != nil {
			t.Fatalf("%s: %v", tt.uri, err)
		}
		if got := PhoneNumber(u); got != tt.want {
			t.Errorf("PhoneNumber(%q) = %q, want %q", tt.uri, got, tt.want)
		}
	}
}

func TestRemoveHeadersAnyCase(t *testing.T) {
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"})
	req.AppendHeader(sip.NewHeader("X-Foo", "1"))
	req.AppendHeader(sip.NewHeader("x-foo", "2"))
	req.AppendHeader(sip.NewHeader("X-FOO", "3"))
	req.AppendHeader(sip.NewHeader("X-Bar", "4"))
	if !RemoveHeaders(req, "x-Foo") {
		t.Fatal("nothing removed")
	}
	if req.GetHeader("x-foo") != nil || req.GetHeader("X-Bar") == nil {
		t.Fatalf("left: %v", req.Headers())
	}
	if RemoveHeaders(req, "X-Foo") {
		t.Fatal("removed twice")
	}
}

func TestMatchAny(t *testing.T) {
	var u sip.Uri
	_ = sip.ParseUri("sip:echo@example.com", &u)
	if !MatchAny(u, nil, []string{"*@other.net", "echo@example.com"}) {
		t.Error("a pattern of the second list did not match")
	}
	if MatchAny(u, []string{"*@other.net"}, nil) || MatchAny(u) {
		t.Error("matched without a matching pattern")
	}
}
