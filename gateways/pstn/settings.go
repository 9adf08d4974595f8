package pstn

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrSettings is wrapped by every chain-entry settings error.
var ErrSettings = errors.New("bad settings")

// Settings are the plugin's chain-entry settings: only what belongs to
// one running instance. Dial plans, routes and trunks are the replicated
// configuration document (Config), not settings.
type Settings struct {
	// Config names the configuration document the instance serves (one
	// cluster may hold several, such as a staging one).
	Config         string
	ProbeInterval  time.Duration // OPTIONS to each gateway
	ProbeTimeout   time.Duration // no answer within it: a miss
	ProbeMisses    int           // misses in a row that mark a gateway down
	ProbeSuccesses int           // answers in a row that mark it up again
	// ProbeCodes are the OPTIONS answers that count as alive: codes
	// ("404") and classes ("2xx"). Carriers answer OPTIONS with 403 or
	// 404 and are alive all the same.
	ProbeCodes []string
}

// Setting defaults.
const (
	DefaultConfigName     = "default"
	DefaultProbeInterval  = 30 * time.Second
	DefaultProbeTimeout   = 5 * time.Second
	DefaultProbeMisses    = 3
	DefaultProbeSuccesses = 2
	DefaultProbeCodes     = "2xx,403,404,405,501"
)

var settingKeys = []string{"config", "probe-interval", "probe-timeout", "probe-misses", "probe-successes", "probe-codes"}

// ParseSettings checks the chain entry's settings; unknown keys are
// refused (a typo fails loudly).
func ParseSettings(settings map[string]string) (Settings, error) {
	for k := range settings {
		if !contains(settingKeys, k) {
			known := append([]string(nil), settingKeys...)
			sort.Strings(known)
			return Settings{}, settingErr(k, "unknown setting (known: %s)", strings.Join(known, ", "))
		}
	}
	s := Settings{Config: DefaultConfigName, ProbeMisses: DefaultProbeMisses, ProbeSuccesses: DefaultProbeSuccesses}
	if v, ok := settings["config"]; ok {
		s.Config = strings.TrimSpace(v)
		if s.Config == "" || len(s.Config) > 64 || strings.ContainsAny(s.Config, "/ \t") {
			return Settings{}, settingErr("config", "%q is not a document name (1-64 characters, no '/' or space)", v)
		}
	}
	var err error
	if s.ProbeInterval, err = duration(settings, "probe-interval", DefaultProbeInterval); err != nil {
		return Settings{}, err
	}
	if s.ProbeTimeout, err = duration(settings, "probe-timeout", DefaultProbeTimeout); err != nil {
		return Settings{}, err
	}
	if s.ProbeTimeout > s.ProbeInterval {
		return Settings{}, settingErr("probe-timeout", "%s is longer than probe-interval %s", s.ProbeTimeout, s.ProbeInterval)
	}
	if s.ProbeMisses, err = count(settings, "probe-misses", s.ProbeMisses); err != nil {
		return Settings{}, err
	}
	if s.ProbeSuccesses, err = count(settings, "probe-successes", s.ProbeSuccesses); err != nil {
		return Settings{}, err
	}
	codes := DefaultProbeCodes
	if v, ok := settings["probe-codes"]; ok {
		codes = v
	}
	for _, c := range strings.Split(codes, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if !probeCode(c) {
			return Settings{}, settingErr("probe-codes", "%q is not a code (200-699) or a class (2xx-6xx)", c)
		}
		s.ProbeCodes = append(s.ProbeCodes, c)
	}
	return s, nil
}

// Alive reports whether an OPTIONS answer counts as alive.
func (s Settings) Alive(code int) bool {
	c := strconv.Itoa(code)
	for _, p := range s.ProbeCodes {
		if p == c || (strings.HasSuffix(p, "xx") && len(c) == 3 && p[0] == c[0]) {
			return true
		}
	}
	return false
}

func probeCode(c string) bool {
	if len(c) != 3 || c[0] < '2' || c[0] > '6' {
		return false
	}
	return c[1:] == "xx" || isDigits(c[1:])
}

func duration(settings map[string]string, key string, def time.Duration) (time.Duration, error) {
	v, ok := settings[key]
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 100*time.Millisecond || d > time.Hour {
		return 0, settingErr(key, "%q is not a duration from 100ms to 1h", v)
	}
	return d, nil
}

func count(settings map[string]string, key string, def int) (int, error) {
	v, ok := settings[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 100 {
		return 0, settingErr(key, "%q is not a count from 1 to 100", v)
	}
	return n, nil
}

func settingErr(key, format string, args ...any) error {
	return fmt.Errorf("pstn: setting %s: %s: %w", key, fmt.Sprintf(format, args...), ErrSettings)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
