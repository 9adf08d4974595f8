package echo

import (
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	dom := []string{"Example.com", "other.example"}
	tests := []struct {
		name    string
		set     map[string]string
		domains []string
		ok      bool
		check   func(Settings) bool
	}{
		{"defaults", nil, dom, true, func(s Settings) bool {
			return s.Address() == "echo@example.com" && s.MediaIP.String() == "127.0.0.1" && s.PortMin == 30000 && s.PortMax == 30999 &&
				s.RTPTimeout == 30*time.Second && s.MaxCalls == 200 && s.Latch && s.AnswerDelay == 0
		}},
		{"answer delay", map[string]string{"answer-delay": "1500ms"}, dom, true, func(s Settings) bool { return s.AnswerDelay == 1500*time.Millisecond }},
		{"answer delay zero", map[string]string{"answer-delay": "0s"}, dom, true, func(s Settings) bool { return s.AnswerDelay == 0 }},
		{"user only", map[string]string{"address": "test"}, dom, true, func(s Settings) bool { return s.Address() == "test@example.com" }},
		{"user@domain", map[string]string{"address": "sip:Echo@Voice.Example.net"}, dom, true, func(s Settings) bool { return s.Address() == "Echo@voice.example.net" }},
		{"domain without node domains", map[string]string{"address": "echo@x.test"}, nil, true, func(s Settings) bool { return s.Domain == "x.test" }},
		{"media address", map[string]string{"media-address": "127.0.0.2"}, dom, true, func(s Settings) bool { return s.MediaIP.String() == "127.0.0.2" }},
		{"ipv6 media", map[string]string{"media-address": "::1"}, dom, true, func(s Settings) bool { return s.MediaIP.String() == "::1" }},
		{"odd low port", map[string]string{"rtp-ports": "40001-40010"}, dom, true, func(s Settings) bool { return s.PortMin == 40002 && s.PortMax == 40010 }},
		{"timeout", map[string]string{"rtp-timeout": "5s"}, dom, true, func(s Settings) bool { return s.RTPTimeout == 5*time.Second }},
		{"max calls", map[string]string{"max-calls": "3"}, dom, true, func(s Settings) bool { return s.MaxCalls == 3 }},
		{"latch off", map[string]string{"latch": "off"}, dom, true, func(s Settings) bool { return !s.Latch }},
		{"latch false", map[string]string{"latch": "FALSE"}, dom, true, func(s Settings) bool { return !s.Latch }},

		{"unknown setting", map[string]string{"adress": "echo"}, dom, false, nil},
		{"no domain at all", nil, nil, false, nil},
		{"empty user", map[string]string{"address": "@example.com"}, dom, false, nil},
		{"empty domain", map[string]string{"address": "echo@"}, dom, false, nil},
		{"bad user", map[string]string{"address": "e cho"}, dom, false, nil},
		{"media not an ip", map[string]string{"media-address": "localhost"}, dom, false, nil},
		{"media unspecified", map[string]string{"media-address": "0.0.0.0"}, dom, false, nil},
		{"media multicast", map[string]string{"media-address": "239.1.1.1"}, dom, false, nil},
		{"ports reversed", map[string]string{"rtp-ports": "40010-40000"}, dom, false, nil},
		{"ports one", map[string]string{"rtp-ports": "40001-40002"}, dom, false, nil},
		{"ports low", map[string]string{"rtp-ports": "80-90"}, dom, false, nil},
		{"ports high", map[string]string{"rtp-ports": "65000-70000"}, dom, false, nil},
		{"ports text", map[string]string{"rtp-ports": "many"}, dom, false, nil},
		{"timeout text", map[string]string{"rtp-timeout": "soon"}, dom, false, nil},
		{"timeout tiny", map[string]string{"rtp-timeout": "1ms"}, dom, false, nil},
		{"max calls zero", map[string]string{"max-calls": "0"}, dom, false, nil},
		{"max calls text", map[string]string{"max-calls": "lots"}, dom, false, nil},
		{"latch maybe", map[string]string{"latch": "maybe"}, dom, false, nil},
		{"answer delay negative", map[string]string{"answer-delay": "-1s"}, dom, false, nil},
		{"answer delay long", map[string]string{"answer-delay": "2m"}, dom, false, nil},
		{"answer delay text", map[string]string{"answer-delay": "later"}, dom, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSettings(tt.set, tt.domains)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !tt.check(s) {
				t.Fatalf("settings %+v", s)
			}
		})
	}
}
