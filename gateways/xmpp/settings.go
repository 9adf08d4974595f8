package xmpp

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmpp/jid"
)

// ErrSettings is wrapped by every settings error.
var ErrSettings = errors.New("bad settings")

// Config is the gateway's typed configuration, read from the chain
// entry's settings (README.md, Settings).
type Config struct {
	Server          string        // host:port of the XMPP server's component port
	Component       string        // the component's domain
	Secret          Secret        // read from secret-file
	SecretFile      string        // where it came from (for messages)
	Domains         []string      // XMPP domains reachable through the server
	ReconnectMin    time.Duration // first reconnect delay
	ReconnectMax    time.Duration // the delay doubles up to this
	MaxMessageBytes int           // larger messages: policy-violation / 413
	Rate            float64       // stanzas per second accepted from one JID
}

// Defaults.
const (
	DefaultReconnectMin    = time.Second
	DefaultReconnectMax    = 30 * time.Second
	DefaultMaxMessageBytes = 64 << 10
	MaxMaxMessageBytes     = 1 << 20
	DefaultRate            = 10 // per second, per JID
	maxSecretBytes         = 4 << 10
)

// Secret is the component secret. It never prints: fmt and slog show
// "[redacted]".
type Secret []byte

func (Secret) String() string             { return "[redacted]" }
func (Secret) GoString() string           { return "[redacted]" }
func (Secret) LogValue() slog.Value       { return slog.StringValue("[redacted]") }
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, "[redacted]") }

// MarshalText keeps the secret out of JSON, YAML and slog's JSON handler.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// settingKeys are the settings the gateway knows; others are refused.
var settingKeys = []string{"server", "component", "secret-file", "domains", "reconnect-min", "reconnect-max", "max-message-bytes", "rate"}

// ParseSettings checks settings and builds the Config. nodeDomains are
// the node's SIP domains (the first is the default component domain).
func ParseSettings(settings map[string]string, nodeDomains []string) (Config, error) {
	for k := range settings {
		if !contains(settingKeys, k) {
			return Config{}, settingErr(k, "unknown setting (known: %s)", strings.Join(sorted(settingKeys), ", "))
		}
	}
	c := Config{
		ReconnectMin:    DefaultReconnectMin,
		ReconnectMax:    DefaultReconnectMax,
		MaxMessageBytes: DefaultMaxMessageBytes,
		Rate:            DefaultRate,
	}
	var err error
	if c.Server, err = parseServer(settings["server"]); err != nil {
		return Config{}, err
	}
	comp := strings.TrimSpace(settings["component"])
	if comp == "" && len(nodeDomains) > 0 {
		comp = nodeDomains[0]
	}
	if comp == "" {
		return Config{}, settingErr("component", "required when the node has no SIP domain")
	}
	if c.Component, err = parseDomain("component", comp); err != nil {
		return Config{}, err
	}
	if c.Domains, err = parseDomains(settings["domains"], c.Component); err != nil {
		return Config{}, err
	}
	c.SecretFile = strings.TrimSpace(settings["secret-file"])
	if c.Secret, err = readSecret(c.SecretFile); err != nil {
		return Config{}, err
	}
	if c.ReconnectMin, err = parseDuration(settings, "reconnect-min", c.ReconnectMin); err != nil {
		return Config{}, err
	}
	if c.ReconnectMax, err = parseDuration(settings, "reconnect-max", c.ReconnectMax); err != nil {
		return Config{}, err
	}
	if c.ReconnectMin > c.ReconnectMax {
		return Config{}, settingErr("reconnect-min", "%s is more than reconnect-max %s", c.ReconnectMin, c.ReconnectMax)
	}
	if v, ok := settings["max-message-bytes"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > MaxMaxMessageBytes {
			return Config{}, settingErr("max-message-bytes", "%q is not a byte count from 1 to %d", v, MaxMaxMessageBytes)
		}
		c.MaxMessageBytes = n
	}
	if v, ok := settings["rate"]; ok {
		if c.Rate, err = parseRate(v); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// Claims are the address patterns the gateway claims: *@ each domain.
func (c Config) Claims() []string {
	out := make([]string, len(c.Domains))
	for i, d := range c.Domains {
		out[i] = "*@" + d
	}
	return out
}

func parseServer(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", settingErr("server", "required: host:port of the XMPP server's component port")
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return "", settingErr("server", "%q is not host:port", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", settingErr("server", "%q: port must be 1-65535", v)
	}
	return v, nil
}

// parseDomain checks a bare domain as a JID domainpart and returns its
// canonical (lowercase, U-label) form.
func parseDomain(key, d string) (string, error) {
	d = strings.TrimSpace(d)
	if strings.ContainsAny(d, "@/ ") {
		return "", settingErr(key, "%q is not a domain", d)
	}
	j, err := jid.New("", d, "")
	if err != nil {
		return "", settingErr(key, "%q is not a domain: %v", d, err)
	}
	return j.Domainpart(), nil
}

func parseDomains(v, component string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(v, ",") {
		if strings.TrimSpace(d) == "" {
			continue
		}
		dom, err := parseDomain("domains", d)
		if err != nil {
			return nil, err
		}
		switch {
		case dom == component:
			return nil, settingErr("domains", "%q is the component's own domain (our users' domain), not an XMPP one", dom)
		case contains(out, dom):
			return nil, settingErr("domains", "%q listed twice", dom)
		}
		out = append(out, dom)
	}
	if len(out) == 0 {
		return nil, settingErr("domains", "required: the comma-separated XMPP domains reachable through the server")
	}
	return out, nil
}

// readSecret reads the component secret from path: a regular file that
// others cannot read, not empty (a trailing newline is dropped). Errors
// name the file, never its content.
func readSecret(path string) (Secret, error) {
	if path == "" {
		return nil, settingErr("secret-file", "required: a file holding the component secret")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, settingErr("secret-file", "%v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, settingErr("secret-file", "%v", err)
	}
	switch {
	case !st.Mode().IsRegular():
		return nil, settingErr("secret-file", "%s is not a regular file", path)
	case st.Mode().Perm()&0o007 != 0:
		return nil, settingErr("secret-file", "%s is accessible to others (mode %04o): chmod o-rwx it", path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return nil, settingErr("secret-file", "%s: %v", path, err)
	}
	if len(b) > maxSecretBytes {
		return nil, settingErr("secret-file", "%s is over %d bytes", path, maxSecretBytes)
	}
	b = []byte(strings.TrimRight(string(b), "\r\n"))
	if len(b) == 0 {
		return nil, settingErr("secret-file", "%s is empty", path)
	}
	return Secret(b), nil
}

func parseDuration(settings map[string]string, key string, def time.Duration) (time.Duration, error) {
	v, ok := settings[key]
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 || d > time.Hour {
		return 0, settingErr(key, "%q is not a duration from 1ns to 1h (such as 1s, 500ms)", v)
	}
	return d, nil
}

// parseRate reads "N" or "N/s" (per second) or "N/m" (per minute).
func parseRate(v string) (float64, error) {
	s := strings.TrimSpace(v)
	per := 1.0
	if n, unit, ok := strings.Cut(s, "/"); ok {
		s = n
		switch unit {
		case "s":
		case "m":
			per = 60
		default:
			return 0, settingErr("rate", "%q: the unit is /s or /m", v)
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 || f > 1e6 {
		return 0, settingErr("rate", "%q is not a positive rate (such as 10/s or 120/m)", v)
	}
	return f / per, nil
}

func settingErr(key, format string, args ...any) error {
	return fmt.Errorf("xmpp: setting %s: %s: %w", key, fmt.Sprintf(format, args...), ErrSettings)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sorted(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}
