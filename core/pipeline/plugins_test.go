package pipeline

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
