package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Listener is one parsed --sip-listen entry.
type Listener struct {
	Scheme string // udp, tcp, tls, ws or wss (lower case)
	Host   string // IP address (without brackets) or host name
	Port   int    // 1-65535
	Trust  string // client, server or trusted
	Raw    string // the entry as configured
}

// Network returns the Go network to listen on: "udp" or "tcp".
func (l Listener) Network() string {
	if l.Scheme == "udp" {
		return "udp"
	}
	return "tcp"
}

// Addr returns host:port for net.Listen, with IPv6 hosts bracketed.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// TLS reports whether the listener needs tls-cert and tls-key.
func (l Listener) TLS() bool { return l.Scheme == "tls" || l.Scheme == "wss" }

var (
	schemes    = []string{"udp", "tcp", "tls", "ws", "wss"}
	trusts     = []string{"client", "server", "trusted"}
	logFormats = []string{"text", "json"}
	logLevels  = []string{"debug", "info", "warn", "error"}
	nodeIDRe   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	zoneRe     = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)
)

// maxExpires is the largest value a SIP Expires header can carry.
const maxExpires = (1<<32 - 1) * time.Second

// Listeners parses sip-listen. Each error is a [KeyError] for "sip-listen".
func (c Config) Listeners() ([]Listener, error) {
	var (
		out  []Listener
		errs []error
		seen = map[string]string{}
	)
	for _, raw := range c.SIPListen {
		l, err := parseListener(raw)
		if err != nil {
			errs = append(errs, &KeyError{Key: "sip-listen", Err: err})
			continue
		}
		// tcp, tls, ws and wss all need a TCP socket of their own.
		sock := l.Network() + " " + canonicalHost(l.Host) + " " + strconv.Itoa(l.Port)
		if prev, dup := seen[sock]; dup {
			errs = append(errs, &KeyError{Key: "sip-listen", Err: fmt.Errorf("%q and %q need the same %s socket", prev, raw, l.Network())})
			continue
		}
		seen[sock] = raw
		out = append(out, l)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parseListener parses scheme://host:port[?trust=client|server|trusted].
func parseListener(raw string) (Listener, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Listener{}, fmt.Errorf("missing scheme in %q (want e.g. udp://127.0.0.1:5060)", raw)
	}
	l := Listener{Scheme: strings.ToLower(scheme), Trust: "client", Raw: raw}
	if !contains(schemes, l.Scheme) {
		return Listener{}, fmt.Errorf("bad scheme %q in %q (want udp, tcp, tls, ws or wss)", scheme, raw)
	}
	hostport, query, _ := strings.Cut(rest, "?")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return Listener{}, fmt.Errorf("bad address %q in %q: want host:port, IPv6 hosts in brackets", hostport, raw)
	}
	if host == "" {
		return Listener{}, fmt.Errorf("missing host in %q (use 0.0.0.0 or [::] for all interfaces)", raw)
	}
	if err := checkHost(host, strings.HasPrefix(hostport, "[")); err != nil {
		return Listener{}, fmt.Errorf("bad host %q in %q: %v", host, raw, err)
	}
	l.Host = host
	if l.Port, err = parsePort(port); err != nil || l.Port == 0 {
		return Listener{}, fmt.Errorf("bad port %q in %q (want 1-65535)", port, raw)
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return Listener{}, fmt.Errorf("bad parameters %q in %q", query, raw)
		}
		for k, vs := range q {
			if k != "trust" {
				return Listener{}, fmt.Errorf("unknown parameter %q in %q (only trust is known)", k, raw)
			}
			if len(vs) != 1 || !contains(trusts, vs[0]) {
				return Listener{}, fmt.Errorf("bad trust %q in %q (want client, server or trusted)", strings.Join(vs, ","), raw)
			}
			l.Trust = vs[0]
		}
	}
	return l, nil
}

// parsePort parses a decimal port 0-65535.
func parsePort(s string) (int, error) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, errors.New("bad port")
	}
	n, _ := strconv.Atoi(s)
	if n > 65535 {
		return 0, errors.New("bad port")
	}
	return n, nil
}

// checkHost accepts an IP address (IPv6 only when bracketed is set, and
// then only IPv6) or a host name.
func checkHost(h string, bracketed bool) error {
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Is6() != bracketed {
			if bracketed {
				return errors.New("only IPv6 addresses go in brackets")
			}
			return errors.New("IPv6 addresses must be in brackets")
		}
		if z := a.Zone(); z != "" && !zoneRe.MatchString(z) {
			return fmt.Errorf("bad IPv6 zone %q", z)
		}
		return nil
	}
	if bracketed {
		return errors.New("not an IPv6 address")
	}
	return checkHostname(h)
}

// checkHostname accepts RFC 1123 host names (letters, digits, dashes; no
// trailing dot).
func checkHostname(h string) error {
	if h == "" {
		return errors.New("empty host name")
	}
	if len(h) > 253 {
		return errors.New("host name longer than 253 characters")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a valid host name (empty or over-long label)")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("not a valid host name (label starts or ends with '-')")
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if (b < 'a' || b > 'z') && (b < 'A' || b > 'Z') && (b < '0' || b > '9') && b != '-' {
				return fmt.Errorf("not a valid host name (character %q)", b)
			}
		}
	}
	return nil
}

func canonicalHost(h string) string {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.String()
	}
	return strings.ToLower(h)
}

// checkHostPort validates a host:port listen address. An empty host is
// allowed when emptyHost is set; port 0 means any free port.
func checkHostPort(s string, emptyHost bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port (IPv6 hosts in brackets)", s)
	}
	if _, err := parsePort(port); err != nil {
		return fmt.Errorf("bad port %q in %q (want 0-65535)", port, s)
	}
	if host == "" {
		if !emptyHost {
			return fmt.Errorf("missing host in %q", s)
		}
		return nil
	}
	if err := checkHost(host, strings.HasPrefix(s, "[")); err != nil {
		return fmt.Errorf("bad host %q in %q: %v", host, s, err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Validate checks every key and returns nil or the problems found, each a
// [KeyError] naming its key, joined with errors.Join. It expects the
// normalised form produced by [Load] (lower-case domains, log-format,
// log-level and role). It reads tls-cert and tls-key when they are needed
// or set.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Err: fmt.Errorf(format, args...)})
	}

	if !nodeIDRe.MatchString(c.NodeID) {
		bad("node-id", "%q must be 1-64 characters from A-Z a-z 0-9 . _ -", c.NodeID)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", "must not be empty")
	}
	if len(c.DigestAlgorithms) == 0 {
		bad("digest-algorithms", "must name at least one of MD5, SHA-256")
	}
	for _, a := range c.DigestAlgorithms {
		if a != "MD5" && a != "SHA-256" {
			bad("digest-algorithms", "%q is not MD5 or SHA-256", a)
		}
	}

	if len(c.Domains) == 0 {
		bad("domain", "at least one SIP domain is required")
	}
	for _, d := range c.Domains {
		if err := checkHostname(d); err != nil {
			bad("domain", "%q: %v", d, err)
		} else if d != strings.ToLower(d) {
			bad("domain", "%q must be lower case", d)
		}
	}

	if len(c.SIPListen) == 0 {
		bad("sip-listen", "at least one listener is required")
	}
	ls, err := c.Listeners()
	if err != nil {
		errs = append(errs, err)
	}
	if c.SIPAdvertise != "" {
		if a, err := netip.ParseAddr(c.SIPAdvertise); err == nil {
			if a.Zone() != "" {
				bad("sip-advertise", "%q: an IPv6 zone cannot be advertised", c.SIPAdvertise)
			}
		} else {
			if err := checkHostname(c.SIPAdvertise); err != nil {
				bad("sip-advertise", "%q: want an IP address (IPv6 without brackets) or a host name: %v", c.SIPAdvertise, err)
			}
		}
	}

	needTLS := false
	for _, l := range ls {
		needTLS = needTLS || l.TLS()
	}
	if !needTLS {
		// Count entries that failed to parse for other reasons, so the
		// missing files are reported together with them.
		for _, raw := range c.SIPListen {
			s := strings.ToLower(raw)
			needTLS = needTLS || strings.HasPrefix(s, "tls://") || strings.HasPrefix(s, "wss://")
		}
	}
	c.validateTLS(needTLS, bad)
	c.validateServerTrust(ls, bad)
	if c.FloodRate < 0 {
		bad("flood-rate", "must be 0 (off) or positive")
	}
	if c.FloodRate > 0 && c.FloodBurst < 1 {
		bad("flood-burst", "must be at least 1")
	}
	if c.FloodRate > 0 && c.FloodBan <= 0 {
		bad("flood-ban", "must be positive")
	}

	if err := checkHostPort(c.AdminListen, true); err != nil {
		bad("admin-listen", "%v", err)
	}
	if err := checkHostPort(c.RaftListen, false); err != nil {
		bad("raft-listen", "%v", err)
	} else if h, _, _ := net.SplitHostPort(c.RaftListen); isUnspecified(h) {
		bad("raft-listen", "%q: other members cannot reach this node at an unspecified address; use a routable IP or host name", c.RaftListen)
	}
	if c.XCAPListen != "" {
		if err := checkHostPort(c.XCAPListen, true); err != nil {
			bad("xcap-listen", "%v", err)
		}
	}
	if c.PprofListen != "" {
		if err := checkHostPort(c.PprofListen, true); err != nil {
			bad("pprof-listen", "%v", err)
		}
	}

	if c.Join != "" {
		if err := checkJoinURL(c.Join); err != nil {
			bad("join", "%v", err)
		} else if c.Bootstrap {
			bad("bootstrap", "cannot be combined with join (a node either starts a cluster or joins one)")
		}
	}

	c.validateCluster(bad)
	c.validateRole(bad)

	c.validateClusterLink(ls, bad)
	if c.PluginLink != "" {
		if err := checkHostPort(c.PluginLink, false); err != nil {
			bad("plugin-link", "%v", err)
		} else if h, _, _ := net.SplitHostPort(c.PluginLink); !isLoopback(h) {
			bad("plugin-link", "%q: the plugins' SIP link must be a loopback address (127.0.0.1, ::1): it is for plugin processes on this host only", c.PluginLink)
		}
	}
	if !contains(logFormats, c.LogFormat) {
		bad("log-format", "%q: want text or json", c.LogFormat)
	}
	if !contains(logLevels, c.LogLevel) {
		bad("log-level", "%q: want debug, info, warn or error", c.LogLevel)
	}

	if c.PluginLeaseTTL < 3*time.Second || c.PluginLeaseTTL > 5*time.Minute {
		bad("plugin-lease-ttl", "%s: want 3s to 5m (renewed every third of it through raft)", formatDuration(c.PluginLeaseTTL))
	}

	expiresOK := true
	for _, d := range []struct {
		key     string
		v       time.Duration
		seconds bool
	}{
		{"min-expires", c.MinExpires, true},
		{"max-expires", c.MaxExpires, true},
		{"default-expires", c.DefaultExpires, true},
		{"nonce-lifetime", c.NonceLifetime, false},
		{"refresh-interval", c.RefreshInterval, false},
		{"sip-timeout", c.SIPTimeout, false},
	} {
		switch {
		case d.v <= 0:
			bad(d.key, "%s must be positive", formatDuration(d.v))
		case d.seconds && d.v%time.Second != 0:
			bad(d.key, "%s must be a whole number of seconds (SIP Expires counts seconds)", formatDuration(d.v))
		case d.seconds && d.v > maxExpires:
			bad(d.key, "%s exceeds the largest SIP Expires value (%ds)", formatDuration(d.v), int64(maxExpires/time.Second))
		default:
			continue
		}
		expiresOK = expiresOK && !d.seconds
	}
	if c.FailoverTimer <= 0 {
		bad("failover-timer", "%s must be positive", formatDuration(c.FailoverTimer))
	}
	switch c.InviteFork {
	case ForkParallel, ForkSerial:
	default:
		bad("invite-fork", "%q is not parallel or serial", c.InviteFork)
	}
	if c.MaxBranches < 1 || c.MaxBranches > 32 {
		bad("max-branches", "%d is not 1 to 32", c.MaxBranches)
	}
	validateKeyPair("admin-tls-cert", "admin-tls-key", c.AdminTLSCert, c.AdminTLSKey, false, "", bad)
	validateKeyPair("xcap-tls-cert", "xcap-tls-key", c.XCAPTLSCert, c.XCAPTLSKey, false, "", bad)
	if c.OfflinePerUser < 1 {
		bad("offline-per-user", "must be at least 1")
	}
	if c.OfflineTotal < c.OfflinePerUser {
		bad("offline-total", "%d is below offline-per-user %d", c.OfflineTotal, c.OfflinePerUser)
	}
	if c.OfflineLifetime < time.Minute {
		bad("offline-lifetime", "%s is below a minute", formatDuration(c.OfflineLifetime))
	}
	if expiresOK {
		if c.MinExpires > c.DefaultExpires {
			bad("min-expires", "%s is above default-expires %s", formatDuration(c.MinExpires), formatDuration(c.DefaultExpires))
		}
		if c.DefaultExpires > c.MaxExpires {
			bad("default-expires", "%s is above max-expires %s", formatDuration(c.DefaultExpires), formatDuration(c.MaxExpires))
		}
	}
	if c.MaxTxPerConn < 1 {
		bad("max-tx-per-conn", "%d must be at least 1", c.MaxTxPerConn)
	}
	return errors.Join(errs...)
}

func isUnspecified(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsUnspecified()
}

func checkJoinURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q: want an http:// or https:// admin URL", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: want an http:// or https:// admin URL", s)
	}
	if u.User != nil {
		return fmt.Errorf("%q: credentials do not belong in the URL", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q: missing host", s)
	}
	host := u.Hostname()
	if err := checkHost(host, strings.HasPrefix(u.Host, "[")); err != nil {
		return fmt.Errorf("%q: bad host %q: %v", s, host, err)
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := parsePort(p); err != nil || n == 0 {
			return fmt.Errorf("%q: bad port %q", s, p)
		}
	}
	return nil
}

// validateTLS checks tls-cert and tls-key: both are required when a TLS
// listener exists, must be given together, must be regular files and must
// load as a key pair.
func (c Config) validateTLS(need bool, bad func(key, format string, args ...any)) {
	validateKeyPair("tls-cert", "tls-key", c.TLSCert, c.TLSKey, need, "required when a tls:// or wss:// sip-listen entry exists", bad)
}

// validateKeyPair checks one certificate and key pair (certKey and
// keyKey name them in messages): when need, or when either is set, both
// must be regular files that load as a key pair.
func validateKeyPair(certKey, keyKey, cert, key string, need bool, why string, bad func(key, format string, args ...any)) {
	if !need && cert == "" && key == "" {
		return
	}
	if !need {
		why = certKey + " and " + keyKey + " must be set together"
	}
	ok := true
	for _, k := range []struct{ key, path string }{{certKey, cert}, {keyKey, key}} {
		if k.path == "" {
			bad(k.key, "%s", why)
			ok = false
			continue
		}
		fi, err := os.Stat(k.path)
		switch {
		case err != nil:
			bad(k.key, "%v", err)
			ok = false
		case !fi.Mode().IsRegular():
			bad(k.key, "%q is not a regular file", k.path)
			ok = false
		}
	}
	if !ok {
		return
	}
	certPEM, err := readSmallFile(cert)
	if err != nil {
		bad(certKey, "%v", err)
		return
	}
	keyPEM, err := readSmallFile(key)
	if err != nil {
		bad(keyKey, "%v", err)
		return
	}
	found := false
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			bad(certKey, "%q: %v", cert, err)
			return
		}
		found = true
	}
	if !found {
		bad(certKey, "%q: no PEM CERTIFICATE block found", cert)
		return
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		bad(keyKey, "%q does not load as a key pair with %s %q: %v", key, certKey, cert, err)
	}
}

// maxPEMSize bounds the TLS files read, so that a mistaken path (a device,
// /proc/kcore) cannot exhaust memory.
const maxPEMSize = 1 << 20

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPEMSize {
		return nil, fmt.Errorf("%q is larger than %d bytes", path, maxPEMSize)
	}
	return b, nil
}

// validateServerTrust checks what ?trust=server listeners need: TLS, a CA
// to verify peers against, and the names of the peers to accept.
func (c Config) validateServerTrust(ls []Listener, bad func(key, format string, args ...any)) {
	server := false
	for _, l := range ls {
		if l.Trust != "server" {
			continue
		}
		server = true
		if !l.TLS() {
			bad("sip-listen", "%q: trust=server needs tls:// or wss:// (peers are known by their certificates)", l.Raw)
		}
	}
	if !server {
		return
	}
	if c.TLSCA == "" {
		bad("tls-ca", "required with a trust=server listener")
	} else if data, err := readSmallFile(c.TLSCA); err != nil {
		bad("tls-ca", "%v", err)
	} else if !x509.NewCertPool().AppendCertsFromPEM(data) {
		bad("tls-ca", "%q holds no PEM certificate", c.TLSCA)
	}
	if len(c.TrustedPeers) == 0 {
		bad("trusted-peers", "required with a trust=server listener (no peer would be accepted)")
	}
}

// isLoopback reports whether host is a loopback IP address.
func isLoopback(host string) bool {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
