// Package config loads parleyd's configuration from defaults, a YAML file,
// PARLEY_* environment variables and flags, in rising precedence, and
// validates it.
//
// Every setting is one field of [Config] carrying a `key:"..."` and a
// `help:"..."` struct tag. The key is at the same time the YAML key, the
// command-line flag name (--key) and, upper-cased with dashes turned into
// underscores and prefixed with PARLEY_, the environment variable. Adding a
// setting therefore means adding one field, its default in [Default] and, if
// it needs one, a rule in [Config.Validate].
//
// Supported field types are string, bool, int, time.Duration and []string.
// Durations are Go duration strings ("90s", "5m"); in YAML a plain integer
// is also accepted and means seconds. Lists are comma-separated in flags and
// the environment and either a sequence or a comma-separated string in YAML;
// repeating a list flag appends to it.
package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix prefixes the environment variable of every key.
const EnvPrefix = "PARLEY_"

// Config is parleyd's complete configuration. Build it with [Load] (or start
// from [Default]); Load returns it normalised (domains, log-format,
// log-level and role lower-cased) and validated.
type Config struct {
	ConfigFile       string        `key:"config" help:"YAML configuration file whose keys are the flag names; set only by flag or environment (empty = none)"`
	NodeID           string        `key:"node-id" help:"name of this node, unique within the cluster: 1-64 characters from A-Z a-z 0-9 . _ -"`
	DataDir          string        `key:"data-dir" help:"directory holding this node's persistent state (Raft log, snapshots, generated admin token)"`
	Domains          []string      `key:"domain" help:"SIP domains this server is authoritative for (host names, lower-cased)"`
	SIPListen        []string      `key:"sip-listen" help:"SIP listeners as scheme://host:port[?trust=client|server|trusted] with scheme udp, tcp, tls, ws or wss; IPv6 hosts in brackets; trust defaults to client"`
	SIPAdvertise     string        `key:"sip-advertise" help:"host name or IP address put into Via and Record-Route (empty = the listen host)"`
	TLSCert          string        `key:"tls-cert" help:"PEM certificate chain file for tls:// and wss:// listeners (required, with tls-key, when such a listener exists)"`
	TLSKey           string        `key:"tls-key" help:"PEM private key file matching tls-cert (required, with tls-cert, when a tls:// or wss:// listener exists)"`
	AdminListen      string        `key:"admin-listen" help:"host:port of the admin HTTP API (empty host = all interfaces, port 0 = any free port)"`
	TLSCA            string        `key:"tls-ca" help:"PEM file of the CAs that sign peer servers' certificates; required with a ?trust=server listener, whose peers must present a certificate from it with the serverAuth usage"`
	TrustedPeers     []string      `key:"trusted-peers" help:"names (DNS SAN or CN) of the servers accepted on ?trust=server listeners: cluster members and federation partners"`
	XCAPListen       string        `key:"xcap-listen" help:"host:port of the XCAP server (RFC 4825) clients use for contact lists and presence rules, with SIP digest credentials (empty = off)"`
	AdminToken       string        `key:"admin-token" help:"bearer token for the admin API (empty = parleyd generates one into <data-dir>/admin-token)"`
	RaftListen       string        `key:"raft-listen" help:"host:port for Raft traffic; the other members must reach this node at that address, so the host cannot be empty, 0.0.0.0 or ::"`
	Bootstrap        bool          `key:"bootstrap" help:"bootstrap a new cluster with this node as its first member (a fresh node with an empty join bootstraps itself anyway)"`
	Join             string        `key:"join" help:"admin URL (http:// or https://) of any member of an existing cluster to join (empty = none); the node must be given that cluster's admin-token, and joins only when its data-dir holds no raft state yet"`
	ClusterCA        string        `key:"cluster-ca" help:"PEM file of the CA that issues the cluster members' certificates; with cluster-cert and cluster-key, raft and forwarded writes use mutual TLS and only holders of such a certificate can join (empty = plain TCP: keep raft-listen on a private network)"`
	ClusterCert      string        `key:"cluster-cert" help:"PEM certificate of this node for the cluster transport, issued by cluster-ca"`
	ClusterKey       string        `key:"cluster-key" help:"PEM private key matching cluster-cert"`
	SnapshotInterval time.Duration `key:"snapshot-interval" help:"how often raft checks whether to snapshot the state and trim its log"`
	SnapshotEntries  int           `key:"snapshot-threshold" help:"log entries since the last snapshot that make the next check take one"`
	RaftStore        string        `key:"raft-store" help:"raft log and stable store: wal (hashicorp/raft-wal in <data-dir>/raft/wal; an existing <data-dir>/raft/raft.db is migrated into it on start and kept as raft.db.migrated) or bolt (hashicorp/raft-boltdb in <data-dir>/raft/raft.db; refused once the log lives in the wal: there is no migration back)"`
	Role             string        `key:"role" help:"role of this node: home (holds users and bindings), director (holds no bindings: redirects REGISTER to the user's home node and proxies other requests to home nodes) or edge (access proxy: admits only federation partners, forwards inward to edge-inward and outward to partners)"`
	ClusterSIP       string        `key:"cluster-sip" help:"host:port of this node's intra-cluster SIP link (TCP, or TLS with cluster-ca), over which other members forward requests for bindings homed here (mutual TLS with the cluster-ca certificates when they are set); the host must be reachable by the other members, port 0 = any free port, published to them; auto = raft-listen's host at raft-listen's port + 1 (7061 beside 7060); off or empty = no link (the node's bindings cannot be reached from other members)"`
	PluginLink       string        `key:"plugin-link" help:"loopback host:port of the SIP link for plugins that are user agents (UDP and TCP on one port, port 0 = any free port); plugins get it and a per-start credential in Configure (empty = off)"`
	EdgeInward       []string      `key:"edge-inward" help:"role edge: SIP URIs of the directors or home nodes requests from partners go to, tried in order when one does not answer (sip:10.0.0.5:5060;transport=tcp)"`
	TopologyHiding   bool          `key:"topology-hiding" help:"role edge: partners see only the edge: internal Via, Record-Route and Contact are removed or replaced on the way out and restored on the way in"`
	DNSServer        string        `key:"dns-server" help:"host[:port] of the DNS server for RFC 3263 lookups (NAPTR, SRV, A/AAAA) of federation partners (empty = the first nameserver in /etc/resolv.conf)"`
	LogFormat        string        `key:"log-format" help:"log output format: text or json"`
	LogLevel         string        `key:"log-level" help:"minimum log level: debug, info, warn or error"`
	MinExpires       time.Duration `key:"min-expires" help:"shortest registration lifetime accepted; a REGISTER asking for less gets 423 Interval Too Brief (whole seconds)"`
	MaxExpires       time.Duration `key:"max-expires" help:"longest registration lifetime granted; longer requests are shortened to it (whole seconds)"`
	DefaultExpires   time.Duration `key:"default-expires" help:"registration lifetime used when a REGISTER asks for none; min-expires <= default-expires <= max-expires (whole seconds)"`
	DigestAlgorithms []string      `key:"digest-algorithms" help:"digest algorithms offered in 401/407 challenges, in the order sent: MD5 and/or SHA-256 (RFC 8760); default MD5 only, because common UAs fail on any SHA-256 challenge (baresip 1.0) or read only the first one (sipp 3.6)"`
	NonceLifetime    time.Duration `key:"nonce-lifetime" help:"how long a digest authentication nonce stays valid"`
	RefreshInterval  time.Duration `key:"refresh-interval" help:"how long registration refreshes are batched before being committed"`
	FloodRate        int           `key:"flood-rate" help:"requests per second one source IP may send over untrusted connections before it is banned (0 = no flood protection)"`
	FloodBurst       int           `key:"flood-burst" help:"requests a source IP may send at once before flood-rate applies"`
	FloodBan         time.Duration `key:"flood-ban" help:"how long a flooding source IP is dropped without answers"`
	RecurseRedirects bool          `key:"recurse-redirects" help:"follow 3xx responses in the proxy (route the request again to the best Contact, up to 3 times) instead of relaying them to the caller"`
	AlwaysFlow       bool          `key:"always-flow" help:"send requests for a UDP registration down the flow it arrived over even when NAT is not detected and its Contact names another address (default: such a Contact is used, RFC 3261 10.3; for deployments behind NATs the detection misses)"`
	FailoverTimer    time.Duration `key:"failover-timer" help:"how long a user's endpoint may stay silent to a non-INVITE request (MESSAGE, OPTIONS, ...) before it goes to the user's next endpoint (cut to half of sip-timeout)"`
	AdminTLSCert     string        `key:"admin-tls-cert" help:"PEM certificate of the admin API: with admin-tls-key it serves HTTPS (the admin_url other members and parleyctl use becomes https://)"`
	AdminTLSKey      string        `key:"admin-tls-key" help:"PEM private key of admin-tls-cert"`
	XCAPTLSCert      string        `key:"xcap-tls-cert" help:"PEM certificate of the XCAP server: with xcap-tls-key it serves HTTPS"`
	XCAPTLSKey       string        `key:"xcap-tls-key" help:"PEM private key of xcap-tls-cert"`
	MetricsToken     bool          `key:"metrics-token" help:"require the admin token (Authorization: Bearer) on /metrics; default off, so Prometheus scrapes without it (keep the admin listener on a management network then)"`
	InviteFork       string        `key:"invite-fork" help:"how an initial INVITE to a user with several endpoints goes: parallel (to all of them at once, RFC 3261 16.7: the first 2xx wins, the others get CANCEL; do-not-disturb endpoints left out unless all are) or serial (the most active and available one, the next after failover-timer)"`
	MaxBranches      int           `key:"max-branches" help:"most endpoints one INVITE forks to in parallel (1-32; the most active and available ones)"`
	OfflinePerUser   int           `key:"offline-per-user" help:"offline messages kept for one user (beyond it: 486 Busy Here)"`
	OfflineTotal     int           `key:"offline-total" help:"offline messages kept for the whole cluster (beyond it: 486 Busy Here)"`
	OfflineLifetime  time.Duration `key:"offline-lifetime" help:"how long an undelivered offline message is kept"`
	MaxTxPerConn     int           `key:"max-tx-per-conn" help:"maximum number of concurrent SIP transactions per connection"`
	SIPTimeout       time.Duration `key:"sip-timeout" help:"lifetime of a SIP transaction"`
	PluginLeaseTTL   time.Duration `key:"plugin-lease-ttl" help:"how long a singleton plugin's lease lasts without renewal (renewed every third of it; 3s-5m): after its holder dies, another node starts the plugin within about this long"`
	PluginDir        string        `key:"plugin-dir" help:"directory holding the plugin binaries that plugin apps name by file name (empty = the directory of the parleyd executable)"`
	PprofListen      string        `key:"pprof-listen" help:"host:port of the net/http/pprof debug server (empty = off)"`
}

// invite-fork values.
const (
	ForkParallel = "parallel"
	ForkSerial   = "serial"
)

// Default returns the built-in defaults, the lowest-precedence layer.
func Default() Config {
	return Config{
		NodeID:           "n1",
		DataDir:          "./data",
		Domains:          []string{"localhost"},
		SIPListen:        []string{"udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"},
		AdminListen:      "127.0.0.1:8060",
		XCAPListen:       "127.0.0.1:8062",
		RaftListen:       "127.0.0.1:7060",
		ClusterSIP:       ClusterSIPAuto,
		PluginLink:       "127.0.0.1:0",
		PluginLeaseTTL:   10 * time.Second,
		SnapshotInterval: 30 * time.Second,
		SnapshotEntries:  8192,
		RaftStore:        "wal",
		Role:             "home",
		LogFormat:        "text",
		LogLevel:         "info",
		MinExpires:       60 * time.Second,
		MaxExpires:       3600 * time.Second,
		DefaultExpires:   3600 * time.Second,
		DigestAlgorithms: []string{"MD5"},
		NonceLifetime:    5 * time.Minute,
		RefreshInterval:  3 * time.Second,
		FloodRate:        200,
		FloodBurst:       400,
		FloodBan:         time.Minute,
		MaxTxPerConn:     10,
		SIPTimeout:       32 * time.Second,
		FailoverTimer:    4 * time.Second,
		InviteFork:       ForkParallel,
		MaxBranches:      8,
		OfflinePerUser:   100,
		OfflineTotal:     10000,
		OfflineLifetime:  7 * 24 * time.Hour,
	}
}

// KeyInfo describes one configuration key.
type KeyInfo struct {
	Key     string // YAML key and flag name, e.g. "sip-listen"
	Env     string // environment variable, e.g. "PARLEY_SIP_LISTEN"
	Help    string // one-line description
	Default string // default in flag/environment syntax ("" when empty)
}

// Keys returns every key, in declaration order, with its help text and
// default, for docs and `parleyd --help`.
func Keys() []KeyInfo {
	def := reflect.ValueOf(Default())
	out := make([]KeyInfo, len(fields))
	for i, f := range fields {
		out[i] = KeyInfo{Key: f.key, Env: f.env, Help: f.help, Default: f.format(def.Field(f.index))}
	}
	return out
}

// KeyError is a problem with the value of one key. Every error returned by
// [Load] and [Config.Validate] about a value is, or joins, KeyErrors.
type KeyError struct {
	Key string // the offending key, e.g. "sip-listen"
	Err error
}

func (e *KeyError) Error() string { return fmt.Sprintf("config: key %q: %v", e.Key, e.Err) }
func (e *KeyError) Unwrap() error { return e.Err }

// EnvName returns the environment variable for key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindDuration
	kindStrings
)

func (k kind) String() string {
	return [...]string{"string", "bool", "int", "duration", "list"}[k]
}

// field is the reflected description of one Config field.
type field struct {
	index int
	key   string
	env   string
	help  string
	kind  kind
}

// fields describes every Config field; built once, panics on a malformed
// struct so that a bad new field fails every test immediately.
var fields = describe(reflect.TypeFor[Config]())

var fieldByKey = func() map[string]*field {
	m := make(map[string]*field, len(fields))
	for i := range fields {
		m[fields[i].key] = &fields[i]
	}
	return m
}()

var durationType = reflect.TypeFor[time.Duration]()

func describe(t reflect.Type) []field {
	out := make([]field, 0, t.NumField())
	seen := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		key, help := sf.Tag.Get("key"), sf.Tag.Get("help")
		if key == "" || help == "" {
			panic(fmt.Sprintf("config: field %s needs key and help tags", sf.Name))
		}
		if seen[key] {
			panic(fmt.Sprintf("config: duplicate key %q", key))
		}
		seen[key] = true
		for _, r := range key {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				panic(fmt.Sprintf("config: key %q: use only a-z 0-9 -", key))
			}
		}
		var k kind
		switch {
		case sf.Type == durationType:
			k = kindDuration
		case sf.Type.Kind() == reflect.String:
			k = kindString
		case sf.Type.Kind() == reflect.Bool:
			k = kindBool
		case sf.Type.Kind() == reflect.Int:
			k = kindInt
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.String:
			k = kindStrings
		default:
			panic(fmt.Sprintf("config: field %s: unsupported type %s", sf.Name, sf.Type))
		}
		out = append(out, field{index: i, key: key, env: EnvName(key), help: help, kind: k})
	}
	return out
}

// format renders v in the syntax accepted by flags and the environment.
func (f *field) format(v reflect.Value) string {
	switch f.kind {
	case kindBool:
		return strconv.FormatBool(v.Bool())
	case kindInt:
		return strconv.FormatInt(v.Int(), 10)
	case kindDuration:
		return formatDuration(time.Duration(v.Int()))
	case kindStrings:
		return strings.Join(v.Interface().([]string), ",")
	default:
		return v.String()
	}
}

// formatDuration is time.Duration.String without zero trailing units:
// "1h" rather than "1h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// setString parses s (flag/environment syntax) into v. With appendList a
// list value is appended to instead of replaced.
func (f *field) setString(v reflect.Value, s string, appendList bool) error {
	switch f.kind {
	case kindString:
		v.SetString(s)
	case kindBool:
		b, err := parseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case kindInt:
		n, err := parseInt(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	case kindDuration:
		d, err := parseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case kindStrings:
		items := splitList(s)
		if appendList {
			items = append(append([]string(nil), v.Interface().([]string)...), items...)
		}
		v.Set(reflect.ValueOf(items))
	}
	return nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "y", "yes", "on":
		return true, nil
	case "0", "f", "false", "n", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want true or false)", s)
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	return n, nil
}

func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	d, err := time.ParseDuration(t)
	if err != nil {
		if _, aerr := strconv.Atoi(t); aerr == nil {
			return 0, fmt.Errorf("invalid duration %q: missing unit (e.g. %q)", s, t+"s")
		}
		return 0, fmt.Errorf("invalid duration %q (want e.g. \"90s\", \"5m\", \"1h\")", s)
	}
	return d, nil
}

// splitList splits a comma-separated list, trimming blanks and dropping
// empty items.
func splitList(s string) []string {
	out := []string{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
