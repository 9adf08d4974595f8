package webrtc

import (
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	domains := []string{"Example.com"}
	tests := []struct {
		name     string
		settings map[string]string
		check    func(t *testing.T, c Config)
		err      string // substring of the error; "" = valid
	}{
		{name: "defaults", settings: nil, check: func(t *testing.T, c Config) {
			want := Config{UDPPort: DefaultUDPPort, Codecs: []string{"pcmu", "pcma"}, RTPTimeout: DefaultRTPTimeout,
				MaxCalls: DefaultMaxCalls, MediaAddress: net.IPv4(127, 0, 0, 1).To4(), RTPPortMin: 32000, RTPPortMax: 32999,
				Identity: "webrtc-gateway@example.com"}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("got %+v\nwant %+v", c, want)
			}
			if got := c.Claims(); !reflect.DeepEqual(got, []string{"webrtc-gateway@example.com"}) {
				t.Errorf("claims %v", got)
			}
		}},
		{name: "all set", settings: map[string]string{"udp-port": "40000", "ice-address": "192.0.2.10", "public-address": "203.0.113.7",
			"ice-tcp": "off", "codecs": " Opus, PCMA ,g722", "rtp-timeout": "5s", "max-calls": "3", "media-address": "::1",
			"rtp-ports": "40001-40010", "identity": "sip:gw@Other.example"},
			check: func(t *testing.T, c Config) {
				if c.UDPPort != 40000 || !c.ICEAddress.Equal(net.ParseIP("192.0.2.10")) || !c.PublicAddress.Equal(net.ParseIP("203.0.113.7")) ||
					!reflect.DeepEqual(c.Codecs, []string{"opus", "pcma", "g722"}) || c.RTPTimeout != 5*time.Second || c.MaxCalls != 3 ||
					!c.MediaAddress.Equal(net.IPv6loopback) || c.RTPPortMin != 40002 || c.RTPPortMax != 40010 || c.Identity != "gw@other.example" {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "any free mux port", settings: map[string]string{"udp-port": "0"}, check: func(t *testing.T, c Config) {
			if c.UDPPort != -1 {
				t.Errorf("udp-port 0 -> %d", c.UDPPort)
			}
		}},
		{name: "port range instead of mux", settings: map[string]string{"ice-ports": "50000-50100"}, check: func(t *testing.T, c Config) {
			if c.UDPPort != 0 || c.ICEPortMin != 50000 || c.ICEPortMax != 50100 {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "identity user only", settings: map[string]string{"identity": "gw"}, check: func(t *testing.T, c Config) {
			if c.Identity != "gw@example.com" {
				t.Errorf("identity %q", c.Identity)
			}
		}},
		{name: "unknown key", settings: map[string]string{"udp_port": "1"}, err: "setting udp_port: unknown setting"},
		{name: "both port kinds", settings: map[string]string{"udp-port": "40000", "ice-ports": "50000-50100"}, err: "not both"},
		{name: "low mux port", settings: map[string]string{"udp-port": "80"}, err: "setting udp-port"},
		{name: "mux port not a number", settings: map[string]string{"udp-port": "x"}, err: "setting udp-port"},
		{name: "bad ice range", settings: map[string]string{"ice-ports": "50100-50000"}, err: "setting ice-ports"},
		{name: "ice range without dash", settings: map[string]string{"ice-ports": "50000"}, err: "setting ice-ports"},
		{name: "bad ice address", settings: map[string]string{"ice-address": "eth0"}, err: "setting ice-address"},
		{name: "unspecified public address", settings: map[string]string{"public-address": "0.0.0.0"}, err: "setting public-address"},
		{name: "multicast media address", settings: map[string]string{"media-address": "224.0.0.1"}, err: "setting media-address"},
		{name: "ice-tcp not yet", settings: map[string]string{"ice-tcp": "on"}, err: "not supported yet"},
		{name: "ice-tcp garbage", settings: map[string]string{"ice-tcp": "maybe"}, err: "setting ice-tcp"},
		{name: "unknown codec", settings: map[string]string{"codecs": "pcmu,g729"}, err: "setting codecs"},
		{name: "codec twice", settings: map[string]string{"codecs": "pcmu,PCMU"}, err: "listed twice"},
		{name: "no codec", settings: map[string]string{"codecs": " , "}, err: "setting codecs"},
		{name: "short timeout", settings: map[string]string{"rtp-timeout": "10ms"}, err: "setting rtp-timeout"},
		{name: "timeout not a duration", settings: map[string]string{"rtp-timeout": "30"}, err: "setting rtp-timeout"},
		{name: "zero calls", settings: map[string]string{"max-calls": "0"}, err: "setting max-calls"},
		{name: "too many calls", settings: map[string]string{"max-calls": "10001"}, err: "setting max-calls"},
		{name: "rtp range of one odd port", settings: map[string]string{"rtp-ports": "40001-40001"}, err: "setting rtp-ports"},
		{name: "rtp range low", settings: map[string]string{"rtp-ports": "100-200"}, err: "setting rtp-ports"},
		{name: "identity pattern", settings: map[string]string{"identity": "*@example.com"}, err: "setting identity"},
		{name: "identity empty user", settings: map[string]string{"identity": "@example.com"}, err: "setting identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseSettings(tt.settings, domains)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrSettings) {
					t.Fatalf("err = %v, want one containing %q wrapping ErrSettings", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseSettingsNoDomain(t *testing.T) {
	if _, err := ParseSettings(nil, nil); err == nil || !strings.Contains(err.Error(), "setting identity") {
		t.Fatalf("err = %v", err)
	}
	c, err := ParseSettings(map[string]string{"identity": "gw@example.net"}, nil)
	if err != nil || c.Identity != "gw@example.net" {
		t.Fatalf("%+v %v", c, err)
	}
}
