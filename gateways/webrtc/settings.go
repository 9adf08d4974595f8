package webrtc

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrSettings is wrapped by every settings error.
var ErrSettings = errors.New("bad settings")

// Config is the gateway's typed configuration, read from the chain
// entry's settings (README.md, Settings).
type Config struct {
	// UDPPort is the one muxed UDP port every browser leg's ICE, DTLS
	// and SRTP use (0 with ICEPortMin set: no mux; -1: any free port,
	// for tests).
	UDPPort int
	// ICEPortMin and ICEPortMax: without a mux, each browser leg binds
	// its own port from this range.
	ICEPortMin, ICEPortMax int
	// ICEAddress is the address the ICE port is bound to and gathered
	// from (nil: every non-loopback interface).
	ICEAddress net.IP
	// PublicAddress is advertised in the ICE host candidates instead of
	// the local one (NAT 1:1); nil: the local address.
	PublicAddress net.IP
	// ICETCP would add ICE-TCP candidates; not yet supported (refused).
	ICETCP bool
	// Codecs is the preference order of the audio codecs the gateway
	// steers to (lower-case encoding names).
	Codecs []string
	// RTPTimeout: a call that receives no media on either leg for this
	// long is ended on both.
	RTPTimeout time.Duration
	// MaxCalls is how many calls may run at once; more get 503.
	MaxCalls int
	// MediaAddress is where the plain-RTP leg binds and what its SDP
	// announces.
	MediaAddress net.IP
	// RTPPortMin and RTPPortMax bound the plain-RTP leg's ports (even
	// RTP, odd RTCP).
	RTPPortMin, RTPPortMax int
	// Identity is the address the gateway claims and asserts (in
	// P-Asserted-Identity) on the legs it places through the node.
	Identity string
}

// Defaults.
const (
	DefaultUDPPort      = 20000
	DefaultCodecs       = "pcmu,pcma"
	DefaultRTPTimeout   = 30 * time.Second
	DefaultMaxCalls     = 200
	DefaultMediaAddress = "127.0.0.1"
	DefaultRTPPorts     = "32000-32999"
	DefaultIdentityUser = "webrtc-gateway"
	MaxMaxCalls         = 10000
)

// knownCodecs are the encodings the gateway relays untouched (both
// browsers and phones may have them).
var knownCodecs = map[string]bool{"pcmu": true, "pcma": true, "g722": true, "opus": true}

// settingKeys are the settings the gateway knows; others are refused.
var settingKeys = []string{"udp-port", "ice-ports", "ice-address", "public-address", "ice-tcp", "codecs",
	"rtp-timeout", "max-calls", "media-address", "rtp-ports", "identity"}

// ParseSettings checks settings and builds the Config. nodeDomains are
// the node's SIP domains (the first is the identity's default domain).
func ParseSettings(settings map[string]string, nodeDomains []string) (Config, error) {
	for k := range settings {
		if !contains(settingKeys, k) {
			return Config{}, settingErr(k, "unknown setting (known: %s)", strings.Join(sorted(settingKeys), ", "))
		}
	}
	c := Config{RTPTimeout: DefaultRTPTimeout, MaxCalls: DefaultMaxCalls}
	var err error
	if err = c.parseICEPorts(settings); err != nil {
		return Config{}, err
	}
	if c.ICEAddress, err = parseIP(settings, "ice-address", ""); err != nil {
		return Config{}, err
	}
	if c.PublicAddress, err = parseIP(settings, "public-address", ""); err != nil {
		return Config{}, err
	}
	if c.ICETCP, err = parseBool(settings, "ice-tcp", false); err != nil {
		return Config{}, err
	}
	if c.ICETCP {
		return Config{}, settingErr("ice-tcp", "on is not supported yet (README.md, Not yet)")
	}
	if c.Codecs, err = parseCodecs(orDefault(settings["codecs"], DefaultCodecs)); err != nil {
		return Config{}, err
	}
	if v, ok := settings["rtp-timeout"]; ok {
		c.RTPTimeout, err = time.ParseDuration(strings.TrimSpace(v))
		if err != nil || c.RTPTimeout < 100*time.Millisecond || c.RTPTimeout > time.Hour {
			return Config{}, settingErr("rtp-timeout", "%q is not a duration from 100ms to 1h", v)
		}
	}
	if v, ok := settings["max-calls"]; ok {
		c.MaxCalls, err = strconv.Atoi(strings.TrimSpace(v))
		if err != nil || c.MaxCalls < 1 || c.MaxCalls > MaxMaxCalls {
			return Config{}, settingErr("max-calls", "%q is not a number from 1 to %d", v, MaxMaxCalls)
		}
	}
	if c.MediaAddress, err = parseIP(settings, "media-address", DefaultMediaAddress); err != nil {
		return Config{}, err
	}
	if c.RTPPortMin, c.RTPPortMax, err = parseRange("rtp-ports", orDefault(settings["rtp-ports"], DefaultRTPPorts)); err != nil {
		return Config{}, err
	}
	if c.RTPPortMin%2 == 1 {
		c.RTPPortMin++
	}
	if c.RTPPortMax-c.RTPPortMin < 1 {
		return Config{}, settingErr("rtp-ports", "%q holds no even port with an odd one above it", settings["rtp-ports"])
	}
	if c.Identity, err = parseIdentity(settings["identity"], nodeDomains); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Claims are what the gateway claims: its own identity, which it
// asserts on the legs it places.
func (c Config) Claims() []string { return []string{c.Identity} }

// parseICEPorts reads udp-port and ice-ports: one of them (udp-port
// DefaultUDPPort when neither is set).
func (c *Config) parseICEPorts(settings map[string]string) error {
	port, hasPort := settings["udp-port"]
	rng, hasRange := settings["ice-ports"]
	switch {
	case hasPort && hasRange:
		return settingErr("udp-port", "give udp-port (one muxed port) or ice-ports (a port per call), not both")
	case hasRange:
		var err error
		c.ICEPortMin, c.ICEPortMax, err = parseRange("ice-ports", rng)
		return err
	case !hasPort:
		c.UDPPort = DefaultUDPPort
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(port))
	switch {
	case err == nil && n == 0:
		c.UDPPort = -1 // any free port
	case err != nil || n < 1024 || n > 65535:
		return settingErr("udp-port", "%q is not a port from 1024 to 65535 (or 0: any free port)", port)
	default:
		c.UDPPort = n
	}
	return nil
}

func parseRange(key, v string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(v, "-")
	if ok {
		lo, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			hi, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || lo < 1024 || hi > 65535 || hi < lo {
		return 0, 0, settingErr(key, "%q is not low-high within 1024-65535", v)
	}
	return lo, hi, nil
}

func parseIP(settings map[string]string, key, def string) (net.IP, error) {
	v := strings.TrimSpace(settings[key])
	if v == "" {
		v = def
	}
	if v == "" {
		return nil, nil
	}
	ip := net.ParseIP(v)
	if ip == nil || ip.IsUnspecified() || ip.IsMulticast() {
		return nil, settingErr(key, "%q is not a unicast IP address", v)
	}
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
	}
	return ip, nil
}

func parseBool(settings map[string]string, key string, def bool) (bool, error) {
	v, ok := settings[key]
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, settingErr(key, "%q is not on or off", v)
}

// parseCodecs reads a comma-separated preference list of encodings.
func parseCodecs(v string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		name := strings.ToLower(strings.TrimSpace(f))
		switch {
		case name == "":
			continue
		case !knownCodecs[name]:
			return nil, settingErr("codecs", "%q is not one of %s", f, strings.Join(sorted(keys(knownCodecs)), ", "))
		case contains(out, name):
			return nil, settingErr("codecs", "%q listed twice", f)
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, settingErr("codecs", "no codec given")
	}
	return out, nil
}

// parseIdentity reads user or user@domain (default: DefaultIdentityUser
// at the node's first domain).
func parseIdentity(v string, domains []string) (string, error) {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(strings.TrimPrefix(v, "sip:"), "sips:")
	if v == "" {
		v = DefaultIdentityUser
	}
	user, domain, hasDomain := strings.Cut(v, "@")
	if !hasDomain && len(domains) > 0 {
		domain = domains[0]
	}
	bad := " \t;<>:@*,\"?"
	if user == "" || strings.ContainsAny(user, bad) || domain == "" || strings.ContainsAny(domain, bad) {
		return "", settingErr("identity", "%q is not user or user@domain (and the node needs a domain for user alone)", v)
	}
	return user + "@" + strings.ToLower(domain), nil
}

func settingErr(key, format string, args ...any) error {
	return fmt.Errorf("webrtc: setting %s: %s: %w", key, fmt.Sprintf(format, args...), ErrSettings)
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sorted(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}
