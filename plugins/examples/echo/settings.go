package echo

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Settings is the echo service's typed configuration, made from the chain
// entry's settings by ParseSettings.
type Settings struct {
	// User and Domain are the address served: INVITEs to sip:User@Domain
	// are proxied to the echo's own user agent.
	User, Domain string
	// MediaIP is where RTP is bound and what the SDP answer announces.
	MediaIP net.IP
	// PortMin and PortMax bound the RTP ports (even ones; RTCP without
	// rtcp-mux takes the odd port above).
	PortMin, PortMax int
	// RTPTimeout: a call that receives no RTP for this long while the
	// caller should be sending is ended with a BYE.
	RTPTimeout time.Duration
	// MaxCalls is how many calls may run at once; more get 486.
	MaxCalls int
	// Latch: the first RTP packet's source becomes the far end (symmetric
	// RTP), whatever the SDP said.
	Latch bool
	// AnswerDelay: how long a call rings (180) before the 200; 0 answers
	// at once. A CANCEL meanwhile ends it (200, then 487 to the INVITE).
	AnswerDelay time.Duration
}

// Address is the served address, user@domain.
func (s Settings) Address() string { return s.User + "@" + s.Domain }

// Defaults of the settings.
const (
	DefaultUser       = "echo"
	DefaultMediaIP    = "127.0.0.1"
	DefaultPorts      = "30000-30999"
	DefaultRTPTimeout = 30 * time.Second
	DefaultMaxCalls   = 200
	// MaxAnswerDelay bounds answer-delay (well inside a proxy's timer C).
	MaxAnswerDelay = time.Minute
)

// known lists the settings ParseSettings understands; others are an error
// (a typo must not silently fall back to a default).
var known = map[string]bool{"address": true, "media-address": true, "rtp-ports": true, "rtp-timeout": true, "max-calls": true, "latch": true, "answer-delay": true}

// ParseSettings turns the chain entry's settings into Settings; domains
// are the node's (the first is the default domain of the address).
func ParseSettings(m map[string]string, domains []string) (Settings, error) {
	s := Settings{User: DefaultUser, RTPTimeout: DefaultRTPTimeout, MaxCalls: DefaultMaxCalls, Latch: true}
	for k := range m {
		if !known[k] {
			return s, fmt.Errorf("echo: unknown setting %q", k)
		}
	}
	if len(domains) > 0 {
		s.Domain = strings.ToLower(domains[0])
	}
	if v := strings.TrimSpace(m["address"]); v != "" {
		v = strings.TrimPrefix(strings.TrimPrefix(v, "sip:"), "sips:")
		user, domain, hasDomain := strings.Cut(v, "@")
		if user == "" || strings.ContainsAny(user, " \t;<>:@") || (hasDomain && (domain == "" || strings.ContainsAny(domain, " \t;<>@"))) {
			return s, fmt.Errorf("echo: address %q (want user or user@domain)", m["address"])
		}
		s.User = user
		if hasDomain {
			s.Domain = strings.ToLower(domain)
		}
	}
	if s.Domain == "" {
		return s, fmt.Errorf("echo: address %q has no domain and the node has none", s.User)
	}
	ip := DefaultMediaIP
	if v := strings.TrimSpace(m["media-address"]); v != "" {
		ip = v
	}
	if s.MediaIP = net.ParseIP(ip); s.MediaIP == nil || s.MediaIP.IsUnspecified() || s.MediaIP.IsMulticast() {
		return s, fmt.Errorf("echo: media-address %q (want a unicast IP address)", ip)
	}
	if s.MediaIP.To4() != nil {
		s.MediaIP = s.MediaIP.To4()
	}
	var err error
	if s.PortMin, s.PortMax, err = parsePorts(orDefault(m["rtp-ports"], DefaultPorts)); err != nil {
		return s, err
	}
	if v := strings.TrimSpace(m["rtp-timeout"]); v != "" {
		if s.RTPTimeout, err = time.ParseDuration(v); err != nil || s.RTPTimeout < 100*time.Millisecond || s.RTPTimeout > time.Hour {
			return s, fmt.Errorf("echo: rtp-timeout %q (want a duration from 100ms to 1h)", v)
		}
	}
	if v := strings.TrimSpace(m["max-calls"]); v != "" {
		if s.MaxCalls, err = strconv.Atoi(v); err != nil || s.MaxCalls < 1 || s.MaxCalls > 100000 {
			return s, fmt.Errorf("echo: max-calls %q (want 1 to 100000)", v)
		}
	}
	if v := strings.TrimSpace(m["answer-delay"]); v != "" {
		if s.AnswerDelay, err = time.ParseDuration(v); err != nil || s.AnswerDelay < 0 || s.AnswerDelay > MaxAnswerDelay {
			return s, fmt.Errorf("echo: answer-delay %q (want a duration from 0 to %v)", v, MaxAnswerDelay)
		}
	}
	if v := strings.TrimSpace(m["latch"]); v != "" {
		switch strings.ToLower(v) {
		case "on", "true", "yes", "1":
			s.Latch = true
		case "off", "false", "no", "0":
			s.Latch = false
		default:
			return s, fmt.Errorf("echo: latch %q (want on or off)", v)
		}
	}
	return s, nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

// parsePorts reads "low-high": at least one even RTP port and its odd
// RTCP neighbour, within 1024-65535.
func parsePorts(v string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(v, "-")
	if ok {
		lo, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			hi, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || lo < 1024 || hi > 65535 || hi < lo {
		return 0, 0, fmt.Errorf("echo: rtp-ports %q (want low-high within 1024-65535)", v)
	}
	if lo%2 == 1 {
		lo++
	}
	if hi-lo < 1 {
		return 0, 0, fmt.Errorf("echo: rtp-ports %q holds no even port with an odd one above it", v)
	}
	return lo, hi, nil
}
