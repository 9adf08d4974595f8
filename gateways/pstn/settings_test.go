package pstn

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings map[string]string
		err      string // substring; "" for success
		check    func(t *testing.T, s Settings)
	}{
		{"defaults", nil, "", func(t *testing.T, s Settings) {
			if s.Config != "default" || s.ProbeInterval != 30*time.Second || s.ProbeTimeout != 5*time.Second ||
				s.ProbeMisses != 3 || s.ProbeSuccesses != 2 || strings.Join(s.ProbeCodes, ",") != DefaultProbeCodes {
				t.Errorf("%+v", s)
			}
			for code, alive := range map[int]bool{200: true, 202: true, 403: true, 404: true, 501: true, 503: false, 408: false, 486: false} {
				if s.Alive(code) != alive {
					t.Errorf("Alive(%d) = %v", code, !alive)
				}
			}
		}},
		{"everything", map[string]string{"config": "staging", "probe-interval": "10s", "probe-timeout": "2s",
			"probe-misses": "5", "probe-successes": "1", "probe-codes": " 200, 4XX "}, "", func(t *testing.T, s Settings) {
			if s.Config != "staging" || s.ProbeInterval != 10*time.Second || s.ProbeTimeout != 2*time.Second ||
				s.ProbeMisses != 5 || s.ProbeSuccesses != 1 || !s.Alive(200) || !s.Alive(486) || s.Alive(202) || s.Alive(503) {
				t.Errorf("%+v", s)
			}
		}},
		{"unknown key", map[string]string{"dial-plan": "x"}, "setting dial-plan: unknown setting (known: config,", nil},
		{"empty config", map[string]string{"config": " "}, "setting config", nil},
		{"config with slash", map[string]string{"config": "a/b"}, "setting config", nil},
		{"bad interval", map[string]string{"probe-interval": "often"}, "setting probe-interval", nil},
		{"tiny interval", map[string]string{"probe-interval": "1ms"}, "setting probe-interval", nil},
		{"timeout over interval", map[string]string{"probe-interval": "1s", "probe-timeout": "2s"}, "longer than probe-interval", nil},
		{"zero misses", map[string]string{"probe-misses": "0"}, "setting probe-misses", nil},
		{"bad successes", map[string]string{"probe-successes": "two"}, "setting probe-successes", nil},
		{"bad code", map[string]string{"probe-codes": "200,1xx"}, "setting probe-codes", nil},
		{"code 700", map[string]string{"probe-codes": "700"}, "setting probe-codes", nil},
		{"empty codes", map[string]string{"probe-codes": ""}, "setting probe-codes", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSettings(tc.settings)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, s)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrSettings) || !strings.HasPrefix(err.Error(), "pstn: setting ") {
				t.Errorf("%v, want %q wrapping ErrSettings", err, tc.err)
			}
		})
	}
}
