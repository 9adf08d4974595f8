package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// loadCase is one Load scenario, in the spirit of CoreDNS's setup tests: a
// YAML snippet, environment and flags, and whether loading must fail and
// which keys the error must name.
type loadCase struct {
	name string
	// yaml, when non-empty, is written to $FILE, which is passed as
	// --config $FILE unless args or env mention $FILE themselves.
	yaml string
	env  []string
	args []string

	shouldErr bool
	errKeys   []string // keys the error must name (exactly); nil = no KeyError expected
	errText   string   // substring the error message must contain
	check     func(t *testing.T, c Config)
}

func runLoadCase(t *testing.T, tc loadCase) (Config, error, *strings.Replacer) {
	t.Helper()
	tf := writeTLSFiles(t)
	file := filepath.Join(tf.dir, "parleyd.yaml")
	r := strings.NewReplacer("$FILE", file, "$DIR", tf.dir, "$CERT", tf.cert, "$KEY", tf.key,
		"$OTHERKEY", tf.otherKey, "$GARBAGE", tf.garbage, "$BIG", tf.big)
	env := make([]string, len(tc.env))
	mentioned := false
	for i, e := range tc.env {
		env[i] = r.Replace(e)
		mentioned = mentioned || strings.Contains(e, "$FILE")
	}
	var args []string
	for _, a := range tc.args {
		args = append(args, r.Replace(a))
		mentioned = mentioned || strings.Contains(a, "$FILE")
	}
	if tc.yaml != "" {
		if err := os.WriteFile(file, []byte(r.Replace(tc.yaml)), 0o600); err != nil {
			t.Fatal(err)
		}
		if !mentioned {
			args = append([]string{"--config", file}, args...)
		}
	}
	var usage strings.Builder
	c, err := Load(args, env, &usage)
	return c, err, r
}

func TestLoad(t *testing.T) {
	for _, tc := range loadCases {
		t.Run(tc.name, func(t *testing.T) {
			c, err, r := runLoadCase(t, tc)
			if !tc.shouldErr {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if verr := c.Validate(); verr != nil {
					t.Fatalf("Load returned a config that does not validate: %v", verr)
				}
				if tc.check != nil {
					tc.check(t, c)
				}
				return
			}
			if err == nil {
				t.Fatalf("expected an error, got none; config: %+v", c)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("on error Load must return the zero Config, got %+v", c)
			}
			if got := errKeys(err); !slices.Equal(got, tc.errKeys) {
				t.Errorf("error names keys %q, want %q; error: %v", got, tc.errKeys, err)
			}
			for _, k := range tc.errKeys {
				if !strings.Contains(err.Error(), `config: key "`+k+`": `) {
					t.Errorf("error message does not name key %q: %v", k, err)
				}
			}
			if want := r.Replace(tc.errText); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}

func keys(k ...string) []string { slices.Sort(k); return k }

func wantEq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

var loadCases = []loadCase{
	// ---- sources and precedence ----
	{name: "defaults", check: func(t *testing.T, c Config) { wantEq(t, "config", c, Default()) }},
	{
		name: "yaml sets values",
		yaml: `
node-id: edge-7
data-dir: /var/lib/parley
domain: [Example.COM, sip.example.com]
sip-listen:
  - udp://0.0.0.0:5060
  - "tcp://[::1]:5080?trust=trusted"
sip-advertise: sip.example.com
admin-listen: ":8061"
admin-token: s3cret
raft-listen: 10.0.0.7:7061
join: http://10.0.0.1:8060
log-format: json
log-level: debug
min-expires: 30s
max-expires: 7200
default-expires: 10m
nonce-lifetime: 90s
refresh-interval: 500ms
max-tx-per-conn: 25
sip-timeout: 64s
pprof-listen: 127.0.0.1:6060
`,
		check: func(t *testing.T, c Config) {
			want := Default()
			want.ConfigFile = c.ConfigFile
			want.NodeID = "edge-7"
			want.DataDir = "/var/lib/parley"
			want.Domains = []string{"example.com", "sip.example.com"}
			want.SIPListen = []string{"udp://0.0.0.0:5060", "tcp://[::1]:5080?trust=trusted"}
			want.SIPAdvertise = "sip.example.com"
			want.AdminListen = ":8061"
			want.AdminToken = "s3cret"
			want.RaftListen = "10.0.0.7:7061"
			want.Join = "http://10.0.0.1:8060"
			want.LogFormat = "json"
			want.LogLevel = "debug"
			want.MinExpires = 30 * time.Second
			want.MaxExpires = 2 * time.Hour
			want.DefaultExpires = 10 * time.Minute
			want.NonceLifetime = 90 * time.Second
			want.RefreshInterval = 500 * time.Millisecond
			want.MaxTxPerConn = 25
			want.SIPTimeout = 64 * time.Second
			want.PprofListen = "127.0.0.1:6060"
			wantEq(t, "config", c, want)
			if !strings.HasSuffix(c.ConfigFile, "parleyd.yaml") {
				t.Errorf("ConfigFile = %q", c.ConfigFile)
			}
		},
	},
	{
		name: "env overrides yaml",
		yaml: "node-id: from-file\nlog-level: warn\n",
		env:  []string{"PARLEY_NODE_ID=from-env", "HOME=/root"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "NodeID", c.NodeID, "from-env")
			wantEq(t, "LogLevel", c.LogLevel, "warn")
		},
	},
	{
		name: "flag overrides env and yaml",
		yaml: "node-id: from-file\nmax-tx-per-conn: 3\nmin-expires: 20\n",
		env:  []string{"PARLEY_NODE_ID=from-env", "PARLEY_MAX_TX_PER_CONN=4", "PARLEY_MIN_EXPIRES=30s"},
		args: []string{"--node-id=from-flag", "-max-tx-per-conn", "5"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "NodeID", c.NodeID, "from-flag")
			wantEq(t, "MaxTxPerConn", c.MaxTxPerConn, 5)
			wantEq(t, "MinExpires", c.MinExpires, 30*time.Second)
		},
	},
	{
		name: "last flag wins for scalars",
		args: []string{"--log-level=warn", "--log-level=error"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "LogLevel", c.LogLevel, "error")
		},
	},
	{
		name: "yaml list as comma-separated string",
		yaml: "domain: 'a.example, b.example'\n",
		check: func(t *testing.T, c Config) {
			wantEq(t, "Domains", c.Domains, []string{"a.example", "b.example"})
		},
	},
	{
		name: "env list is comma-separated and replaces the file",
		yaml: "sip-listen: [udp://127.0.0.1:5070]\n",
		env:  []string{"PARLEY_SIP_LISTEN= udp://127.0.0.1:5090 , tcp://127.0.0.1:5090,"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "SIPListen", c.SIPListen, []string{"udp://127.0.0.1:5090", "tcp://127.0.0.1:5090"})
		},
	},
	{
		name: "repeated list flags append, replacing env",
		env:  []string{"PARLEY_DOMAIN=env.example"},
		args: []string{"--domain", "a.example,b.example", "--domain=c.example"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "Domains", c.Domains, []string{"a.example", "b.example", "c.example"})
		},
	},
	{
		name: "domains are lower-cased and de-duplicated",
		args: []string{"--domain=Example.com,EXAMPLE.COM,other.example"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "Domains", c.Domains, []string{"example.com", "other.example"})
		},
	},
	{
		name: "enumerations are case-insensitive",
		env:  []string{"PARLEY_LOG_LEVEL=DEBUG", "PARLEY_LOG_FORMAT=Json", "PARLEY_ROLE=HOME"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "LogLevel", c.LogLevel, "debug")
			wantEq(t, "LogFormat", c.LogFormat, "json")
			wantEq(t, "Role", c.Role, "home")
		},
	},
	{
		name: "PARLEY_CONFIG names the file",
		yaml: "node-id: via-env-file\n",
		env:  []string{"PARLEY_CONFIG=$FILE"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "NodeID", c.NodeID, "via-env-file")
		},
	},
	{
		name: "--config overrides PARLEY_CONFIG",
		yaml: "node-id: via-flag-file\n",
		env:  []string{"PARLEY_CONFIG=$DIR/does-not-exist.yaml"},
		args: []string{"--config=$FILE"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "NodeID", c.NodeID, "via-flag-file")
		},
	},
	{
		name: "--config= disables PARLEY_CONFIG",
		env:  []string{"PARLEY_CONFIG=$DIR/does-not-exist.yaml"},
		args: []string{"--config="},
		check: func(t *testing.T, c Config) {
			wantEq(t, "ConfigFile", c.ConfigFile, "")
		},
	},
	{
		name: "empty env value counts as unset",
		yaml: "node-id: from-file\n",
		env:  []string{"PARLEY_NODE_ID=", "PARLEY_MIN_EXPIRES="},
		check: func(t *testing.T, c Config) {
			wantEq(t, "NodeID", c.NodeID, "from-file")
		},
	},
	{
		name: "first env entry wins",
		env:  []string{"PARLEY_NODE_ID=first", "PARLEY_NODE_ID=second"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "NodeID", c.NodeID, "first")
		},
	},
	{
		name: "unknown PARLEY_ variables are ignored",
		env:  []string{"PARLEY_ADMIN_URL=http://x", "PARLEY=1", "NOEQUALS"},
	},
	{
		name: "boolean flag forms",
		yaml: "bootstrap: true\n",
		args: []string{"--bootstrap=false"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "Bootstrap", c.Bootstrap, false)
		},
	},
	{
		name: "bare boolean flag",
		args: []string{"--bootstrap"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "Bootstrap", c.Bootstrap, true)
		},
	},
	{
		name: "boolean env and yaml spellings",
		yaml: "bootstrap: yes\n",
		env:  []string{"PARLEY_BOOTSTRAP=off"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "Bootstrap", c.Bootstrap, false)
		},
	},
	{
		name: "yaml string scalars are taken as written",
		yaml: "node-id: 0x10\nadmin-token: 12.50\n",
		check: func(t *testing.T, c Config) {
			wantEq(t, "NodeID", c.NodeID, "0x10")
			wantEq(t, "AdminToken", c.AdminToken, "12.50")
		},
	},
	{
		name: "flag can clear a string",
		yaml: "sip-advertise: sip.example.com\n",
		args: []string{"--sip-advertise="},
		check: func(t *testing.T, c Config) {
			wantEq(t, "SIPAdvertise", c.SIPAdvertise, "")
		},
	},
	{name: "yaml null clears a string", yaml: "data-dir: ~\n", shouldErr: true, errKeys: keys("data-dir"),
		errText: "must not be empty"},
	{name: "yaml null clears a list", yaml: "domain:\n", shouldErr: true, errKeys: keys("domain"),
		errText: "at least one"},
	{
		name: "yaml int fields accept quoted integers",
		yaml: "max-tx-per-conn: \"12\"\n",
		check: func(t *testing.T, c Config) {
			wantEq(t, "MaxTxPerConn", c.MaxTxPerConn, 12)
		},
	},
	{
		name: "yaml anchors and aliases",
		yaml: "domain: &d [alias.example]\nnode-id: &n aliased\nadmin-token: *n\n",
		check: func(t *testing.T, c Config) {
			wantEq(t, "Domains", c.Domains, []string{"alias.example"})
			wantEq(t, "AdminToken", c.AdminToken, "aliased")
		},
	},
	{name: "comment-only file", yaml: "# nothing here\n", check: func(t *testing.T, c Config) {
		want := Default()
		want.ConfigFile = c.ConfigFile
		wantEq(t, "config", c, want)
	}},
	{name: "explicit document markers", yaml: "---\nnode-id: doc\n...\n"},
	{
		name: "tls listener with a valid key pair",
		args: []string{"--sip-listen=tls://127.0.0.1:5061,wss://[::1]:443?trust=trusted", "--tls-cert=$CERT", "--tls-key=$KEY"},
		check: func(t *testing.T, c Config) {
			ls, err := c.Listeners()
			if err != nil {
				t.Fatal(err)
			}
			want := []Listener{
				{Scheme: "tls", Host: "127.0.0.1", Port: 5061, Trust: "client", Raw: "tls://127.0.0.1:5061"},
				{Scheme: "wss", Host: "::1", Port: 443, Trust: "trusted", Raw: "wss://[::1]:443?trust=trusted"},
			}
			wantEq(t, "Listeners", ls, want)
			wantEq(t, "Addr", ls[1].Addr(), "[::1]:443")
			wantEq(t, "Network", ls[1].Network(), "tcp")
		},
	},
	{name: "ipv6 sip-advertise", args: []string{"--sip-advertise=2001:db8::1"}},
	{name: "admin on all interfaces, any port", args: []string{"--admin-listen=:0", "--pprof-listen=[::1]:0"}},
	{name: "https join with path", args: []string{"--join=https://node1.example:8060/"}},

	// ---- file, YAML and flag syntax errors ----
	{name: "unknown yaml key", yaml: "sip-listn: udp://1.2.3.4:5060\n", shouldErr: true,
		errKeys: keys("sip-listn"), errText: `unknown key in $FILE line 1 (did you mean "sip-listen"?)`},
	{name: "unknown yaml key far from any", yaml: "node-id: a\nfrobnicate: 1\n", shouldErr: true,
		errKeys: keys("frobnicate"), errText: "line 2"},
	{name: "config key in yaml", yaml: "config: other.yaml\n", shouldErr: true, errKeys: keys("config"),
		errText: "only by flag or environment"},
	{name: "duplicate yaml key", yaml: "node-id: a\nnode-id: b\n", shouldErr: true, errKeys: keys("node-id"),
		errText: "given twice"},
	{name: "nested yaml is not supported", yaml: "sip:\n  listen: udp://1.2.3.4:5060\n", shouldErr: true,
		errKeys: keys("sip")},
	{name: "yaml string given a list", yaml: "node-id: [a, b]\n", shouldErr: true, errKeys: keys("node-id"),
		errText: "expected a string, got a sequence"},
	{name: "yaml list given a mapping", yaml: "sip-listen: {a: b}\n", shouldErr: true, errKeys: keys("sip-listen")},
	{name: "yaml list item not a string", yaml: "domain: [[a]]\n", shouldErr: true, errKeys: keys("domain")},
	{name: "yaml empty list item", yaml: "domain: [a.example, '']\n", shouldErr: true, errKeys: keys("domain"),
		errText: "empty list item"},
	{name: "yaml bad bool", yaml: "bootstrap: maybe\n", shouldErr: true, errKeys: keys("bootstrap"),
		errText: `invalid boolean "maybe"`},
	{name: "yaml bool given a number", yaml: "bootstrap: 2\n", shouldErr: true, errKeys: keys("bootstrap")},
	{name: "yaml bad int", yaml: "max-tx-per-conn: ten\n", shouldErr: true, errKeys: keys("max-tx-per-conn")},
	{name: "yaml float for int", yaml: "max-tx-per-conn: 1.5\n", shouldErr: true, errKeys: keys("max-tx-per-conn")},
	{name: "yaml int overflow", yaml: "max-tx-per-conn: 99999999999999999999\n", shouldErr: true,
		errKeys: keys("max-tx-per-conn")},
	{name: "yaml float duration", yaml: "min-expires: 1.5\n", shouldErr: true, errKeys: keys("min-expires")},
	{name: "yaml quoted seconds need a unit", yaml: "min-expires: \"300\"\n", shouldErr: true,
		errKeys: keys("min-expires"), errText: `missing unit (e.g. "300s")`},
	{name: "yaml bad duration", yaml: "nonce-lifetime: soon\n", shouldErr: true, errKeys: keys("nonce-lifetime"),
		errText: "$FILE line 1"},
	{name: "yaml duration seconds overflow", yaml: "sip-timeout: 9223372036854775807\n", shouldErr: true,
		errKeys: keys("sip-timeout"), errText: "out of range"},
	{name: "yaml duration given a list", yaml: "sip-timeout: [1]\n", shouldErr: true, errKeys: keys("sip-timeout")},
	{name: "yaml top level not a mapping", yaml: "- node-id: a\n", shouldErr: true, errText: "top level must be a mapping"},
	{name: "yaml scalar top level", yaml: "hello\n", shouldErr: true, errText: "top level must be a mapping"},
	{name: "yaml syntax error", yaml: "node-id: [unclosed\n", shouldErr: true, errText: "$FILE"},
	{name: "yaml two documents", yaml: "node-id: a\n---\nnode-id: b\n", shouldErr: true,
		errText: "only one YAML document"},
	{name: "yaml non-scalar key", yaml: "? [a]\n: b\n", shouldErr: true, errText: "keys must be plain strings"},
	{name: "missing config file", args: []string{"--config=$DIR/nope.yaml"}, shouldErr: true,
		errText: "no such file"},
	{name: "config file is a directory", args: []string{"--config=$DIR"}, shouldErr: true, errText: "$DIR"},
	{name: "env bad int", env: []string{"PARLEY_MAX_TX_PER_CONN=lots"}, shouldErr: true,
		errKeys: keys("max-tx-per-conn"), errText: "environment PARLEY_MAX_TX_PER_CONN"},
	{name: "env bad duration", env: []string{"PARLEY_SIP_TIMEOUT=32"}, shouldErr: true,
		errKeys: keys("sip-timeout"), errText: "missing unit"},
	{name: "env bad bool", env: []string{"PARLEY_BOOTSTRAP=sure"}, shouldErr: true, errKeys: keys("bootstrap")},
	{name: "flag bad bool", args: []string{"--bootstrap=sure"}, shouldErr: true, errKeys: keys("bootstrap"),
		errText: "flag --bootstrap"},
	{name: "flag bad duration", args: []string{"--refresh-interval", "fast"}, shouldErr: true,
		errKeys: keys("refresh-interval")},
	{name: "unknown flag", args: []string{"--sip-listn=x"}, shouldErr: true,
		errText: "flag provided but not defined: -sip-listn"},
	{name: "flag missing value", args: []string{"--node-id"}, shouldErr: true, errText: "flag needs an argument"},
	{name: "positional argument", args: []string{"--bootstrap", "false"}, shouldErr: true,
		errText: `unexpected argument "false"`},

	// ---- validation, per key ----
	{name: "node-id empty", yaml: "node-id: ''\n", shouldErr: true, errKeys: keys("node-id")},
	{name: "node-id space", args: []string{"--node-id=a b"}, shouldErr: true, errKeys: keys("node-id")},
	{name: "node-id non-ascii", args: []string{"--node-id=nöde"}, shouldErr: true, errKeys: keys("node-id")},
	{name: "node-id too long", args: []string{"--node-id=" + strings.Repeat("x", 65)}, shouldErr: true,
		errKeys: keys("node-id")},
	{name: "node-id 64 characters", args: []string{"--node-id=" + strings.Repeat("x", 64)}},
	{name: "data-dir empty", args: []string{"--data-dir="}, shouldErr: true, errKeys: keys("data-dir")},
	{name: "domain empty list", yaml: "domain: []\n", shouldErr: true, errKeys: keys("domain"),
		errText: "at least one"},
	{name: "domain empty via flag", args: []string{"--domain=,"}, shouldErr: true, errKeys: keys("domain")},
	{name: "domain leading dash", args: []string{"--domain=-bad.example"}, shouldErr: true, errKeys: keys("domain")},
	{name: "domain empty label", args: []string{"--domain=a..example"}, shouldErr: true, errKeys: keys("domain")},
	{name: "domain trailing dot", args: []string{"--domain=example.com."}, shouldErr: true, errKeys: keys("domain")},
	{name: "domain underscore", args: []string{"--domain=exa_mple.com"}, shouldErr: true, errKeys: keys("domain")},
	{name: "domain label too long", args: []string{"--domain=" + strings.Repeat("a", 64) + ".com"}, shouldErr: true,
		errKeys: keys("domain")},
	{name: "sip-listen empty", yaml: "sip-listen: []\n", shouldErr: true, errKeys: keys("sip-listen"),
		errText: "at least one"},
	{name: "sip-listen bad scheme", args: []string{"--sip-listen=foo://1.2.3.4:5"}, shouldErr: true,
		errKeys: keys("sip-listen"), errText: `config: key "sip-listen": bad scheme "foo" in "foo://1.2.3.4:5"`},
	{name: "sip-listen no scheme", args: []string{"--sip-listen=1.2.3.4:5060"}, shouldErr: true,
		errKeys: keys("sip-listen"), errText: "missing scheme"},
	{name: "sip-listen no host", args: []string{"--sip-listen=udp://:5060"}, shouldErr: true,
		errKeys: keys("sip-listen"), errText: "missing host"},
	{name: "sip-listen no port", args: []string{"--sip-listen=udp://1.2.3.4"}, shouldErr: true,
		errKeys: keys("sip-listen")},
	{name: "sip-listen port 0", args: []string{"--sip-listen=udp://1.2.3.4:0"}, shouldErr: true,
		errKeys: keys("sip-listen"), errText: "bad port"},
	{name: "sip-listen port too big", args: []string{"--sip-listen=udp://1.2.3.4:65536"}, shouldErr: true,
		errKeys: keys("sip-listen")},
	{name: "sip-listen port signed", args: []string{"--sip-listen=udp://1.2.3.4:+50"}, shouldErr: true,
		errKeys: keys("sip-listen")},
	{name: "sip-listen ipv6 without brackets", args: []string{"--sip-listen=udp://::1:5060"}, shouldErr: true,
		errKeys: keys("sip-listen")},
	{name: "sip-listen ipv4 in brackets", args: []string{"--sip-listen=udp://[1.2.3.4]:5060"}, shouldErr: true,
		errKeys: keys("sip-listen")},
	{name: "sip-listen bad host name", args: []string{"--sip-listen=udp://bad_host:5060"}, shouldErr: true,
		errKeys: keys("sip-listen"), errText: "bad host"},
	{name: "sip-listen path", args: []string{"--sip-listen=ws://1.2.3.4:80/sip"}, shouldErr: true,
		errKeys: keys("sip-listen")},
	{name: "sip-listen bad trust", args: []string{"--sip-listen=udp://1.2.3.4:5060?trust=everyone"}, shouldErr: true,
		errKeys: keys("sip-listen"), errText: `bad trust "everyone"`},
	{name: "sip-listen repeated trust", args: []string{"--sip-listen=udp://1.2.3.4:5060?trust=client&trust=server"},
		shouldErr: true, errKeys: keys("sip-listen")},
	{name: "sip-listen unknown parameter", args: []string{"--sip-listen=udp://1.2.3.4:5060?transport=tcp"},
		shouldErr: true, errKeys: keys("sip-listen"), errText: `unknown parameter "transport"`},
	{name: "sip-listen duplicate socket", args: []string{"--sip-listen=tcp://127.0.0.1:5060,ws://127.0.0.1:5060"},
		shouldErr: true, errKeys: keys("sip-listen"), errText: "same tcp socket"},
	{name: "sip-listen udp and tcp share a port", args: []string{"--sip-listen=udp://[::]:5060,TCP://[::]:5060,ws://[::]:80"},
		check: func(t *testing.T, c Config) {
			ls, err := c.Listeners()
			if err != nil {
				t.Fatal(err)
			}
			wantEq(t, "schemes", []string{ls[0].Scheme, ls[1].Scheme, ls[2].Scheme}, []string{"udp", "tcp", "ws"})
			wantEq(t, "Host", ls[0].Host, "::")
		}},
	{name: "sip-listen every entry reported", args: []string{"--sip-listen=foo://a:1,udp://b:0"}, shouldErr: true,
		errKeys: keys("sip-listen"), errText: `bad port "0" in "udp://b:0"`},
	{name: "sip-advertise bad", args: []string{"--sip-advertise=not a host"}, shouldErr: true,
		errKeys: keys("sip-advertise")},
	{name: "sip-advertise with port", args: []string{"--sip-advertise=sip.example.com:5060"}, shouldErr: true,
		errKeys: keys("sip-advertise")},
	{name: "sip-advertise bracketed", args: []string{"--sip-advertise=[::1]"}, shouldErr: true,
		errKeys: keys("sip-advertise")},
	{name: "cluster tls files", args: []string{"--cluster-ca=$CERT", "--cluster-cert=$CERT", "--cluster-key=$KEY"},
		check: func(t *testing.T, c Config) {
			if c.ClusterCA == "" || c.ClusterCert == "" || c.ClusterKey == "" {
				t.Errorf("cluster TLS files not set: %+v", c)
			}
		}},
	{name: "cluster tls incomplete", args: []string{"--cluster-ca=$CERT", "--cluster-cert=$CERT"}, shouldErr: true,
		errKeys: keys("cluster-key"), errText: "set together"},
	{name: "cluster ca garbage", args: []string{"--cluster-ca=$GARBAGE", "--cluster-cert=$CERT", "--cluster-key=$KEY"},
		shouldErr: true, errKeys: keys("cluster-ca"), errText: "no PEM certificate"},
	{name: "cluster key mismatch", args: []string{"--cluster-ca=$CERT", "--cluster-cert=$CERT", "--cluster-key=$OTHERKEY"},
		shouldErr: true, errKeys: keys("cluster-key"), errText: "key pair"},
	{name: "snapshot settings", args: []string{"--snapshot-interval=0s", "--snapshot-threshold=0"}, shouldErr: true,
		errKeys: keys("snapshot-interval", "snapshot-threshold")},
	{name: "tls listener without files", args: []string{"--sip-listen=tls://127.0.0.1:5061"}, shouldErr: true,
		errKeys: keys("tls-cert", "tls-key"), errText: "required when a tls:// or wss://"},
	{name: "wss listener without key", args: []string{"--sip-listen=wss://127.0.0.1:443", "--tls-cert=$CERT"},
		shouldErr: true, errKeys: keys("tls-key")},
	{name: "tls-cert missing file", args: []string{"--sip-listen=tls://127.0.0.1:5061", "--tls-cert=$DIR/none.pem",
		"--tls-key=$KEY"}, shouldErr: true, errKeys: keys("tls-cert"), errText: "no such file"},
	{name: "tls-key missing file", args: []string{"--sip-listen=tls://127.0.0.1:5061", "--tls-cert=$CERT",
		"--tls-key=$DIR/none.pem"}, shouldErr: true, errKeys: keys("tls-key")},
	{name: "tls-cert is a directory", args: []string{"--sip-listen=tls://127.0.0.1:5061", "--tls-cert=$DIR",
		"--tls-key=$KEY"}, shouldErr: true, errKeys: keys("tls-cert"), errText: "not a regular file"},
	{name: "tls-cert garbage", args: []string{"--sip-listen=tls://127.0.0.1:5061", "--tls-cert=$GARBAGE",
		"--tls-key=$KEY"}, shouldErr: true, errKeys: keys("tls-cert"), errText: "no PEM CERTIFICATE"},
	{name: "tls-cert is the key", args: []string{"--sip-listen=tls://127.0.0.1:5061", "--tls-cert=$KEY",
		"--tls-key=$KEY"}, shouldErr: true, errKeys: keys("tls-cert")},
	{name: "tls-key does not match", args: []string{"--sip-listen=tls://127.0.0.1:5061", "--tls-cert=$CERT",
		"--tls-key=$OTHERKEY"}, shouldErr: true, errKeys: keys("tls-key"), errText: "key pair"},
	{name: "tls-key too large", args: []string{"--sip-listen=tls://127.0.0.1:5061", "--tls-cert=$CERT",
		"--tls-key=$BIG"}, shouldErr: true, errKeys: keys("tls-key"), errText: "larger than"},
	{name: "tls-key garbage", args: []string{"--sip-listen=tls://127.0.0.1:5061", "--tls-cert=$CERT",
		"--tls-key=$GARBAGE"}, shouldErr: true, errKeys: keys("tls-key")},
	{name: "tls-cert alone without tls listener", args: []string{"--tls-cert=$CERT"}, shouldErr: true,
		errKeys: keys("tls-key"), errText: "set together"},
	{name: "tls files without tls listener", args: []string{"--tls-cert=$CERT", "--tls-key=$KEY"}},
	{name: "tls files reported with a bad tls entry", args: []string{"--sip-listen=tls://127.0.0.1:0"}, shouldErr: true,
		errKeys: keys("sip-listen", "tls-cert", "tls-key")},
	{name: "admin-listen no port", args: []string{"--admin-listen=127.0.0.1"}, shouldErr: true,
		errKeys: keys("admin-listen")},
	{name: "admin-listen port too big", args: []string{"--admin-listen=127.0.0.1:80600"}, shouldErr: true,
		errKeys: keys("admin-listen")},
	{name: "admin-listen ipv4 in brackets", args: []string{"--admin-listen=[127.0.0.1]:8060"}, shouldErr: true,
		errKeys: keys("admin-listen")},
	{name: "admin-listen empty", args: []string{"--admin-listen="}, shouldErr: true, errKeys: keys("admin-listen")},
	{name: "raft-listen no host", args: []string{"--raft-listen=:7060"}, shouldErr: true, errKeys: keys("raft-listen"),
		errText: "missing host"},
	{name: "raft-listen unspecified", args: []string{"--raft-listen=0.0.0.0:7060"}, shouldErr: true,
		errKeys: keys("raft-listen"), errText: "unspecified"},
	{name: "raft-listen ipv6 unspecified", args: []string{"--raft-listen=[::]:7060"}, shouldErr: true,
		errKeys: keys("raft-listen")},
	{name: "raft-listen garbage", args: []string{"--raft-listen=raft"}, shouldErr: true, errKeys: keys("raft-listen")},
	{name: "pprof-listen bad", args: []string{"--pprof-listen=6060"}, shouldErr: true, errKeys: keys("pprof-listen")},
	{name: "xcap-listen bad", args: []string{"--xcap-listen=8062"}, shouldErr: true, errKeys: keys("xcap-listen")},
	{name: "flood-rate negative", args: []string{"--flood-rate=-1"}, shouldErr: true, errKeys: keys("flood-rate")},
	{name: "flood off", args: []string{"--flood-rate=0", "--flood-burst=0"}},
	{name: "server trust over tcp", args: []string{"--sip-listen=tcp://127.0.0.1:5070?trust=server"}, shouldErr: true, errKeys: keys("sip-listen", "tls-ca", "trusted-peers")},
	{name: "xcap off", args: []string{"--xcap-listen="}},
	{name: "digest-algorithms unknown", args: []string{"--digest-algorithms=SHA-512"}, shouldErr: true, errKeys: keys("digest-algorithms")},
	{name: "digest-algorithms lower case", args: []string{"--digest-algorithms=sha-256,md5"}},
	{name: "join not http", args: []string{"--join=ftp://10.0.0.1:8060"}, shouldErr: true, errKeys: keys("join")},
	{name: "join bare host", args: []string{"--join=10.0.0.1:8060"}, shouldErr: true, errKeys: keys("join")},
	{name: "join no host", args: []string{"--join=http://"}, shouldErr: true, errKeys: keys("join")},
	{name: "join credentials", args: []string{"--join=http://u:p@10.0.0.1:8060"}, shouldErr: true,
		errKeys: keys("join")},
	{name: "join bad port", args: []string{"--join=http://10.0.0.1:0"}, shouldErr: true, errKeys: keys("join")},
	{name: "join unparsable", args: []string{"--join=http://[::1"}, shouldErr: true, errKeys: keys("join")},
	{name: "bootstrap with join", args: []string{"--bootstrap", "--join=http://10.0.0.1:8060"}, shouldErr: true,
		errKeys: keys("bootstrap")},
	{name: "role director", args: []string{"--role=Director", "--cluster-sip=127.0.0.1:5070"}},
	{name: "role director without cluster-sip", args: []string{"--role=director"}, shouldErr: true, errKeys: keys("cluster-sip"),
		errText: "required with role director"},
	{name: "cluster-sip unspecified host", args: []string{"--cluster-sip=0.0.0.0:5070"}, shouldErr: true, errKeys: keys("cluster-sip")},
	{name: "cluster-ca alone", args: []string{"--cluster-ca=/nonexistent"}, shouldErr: true, errKeys: keys("cluster-cert", "cluster-key")},
	{name: "cluster-sip no port", args: []string{"--cluster-sip=127.0.0.1"}, shouldErr: true, errKeys: keys("cluster-sip")},
	{name: "role edge without inward hops", env: []string{"PARLEY_ROLE=edge"}, shouldErr: true, errKeys: keys("edge-inward"),
		errText: "at least one inward next hop"},
	{name: "role edge", args: []string{"--role=EDGE", "--edge-inward=sip:10.0.0.5:5060;transport=tcp,sip:home.example", "--topology-hiding"},
		check: func(t *testing.T, c Config) {
			wantEq(t, "Role", c.Role, RoleEdge)
			wantEq(t, "EdgeInward", c.EdgeInward, []string{"sip:10.0.0.5:5060;transport=tcp", "sip:home.example"})
		}},
	{name: "edge-inward bad uri", args: []string{"--role=edge", "--edge-inward=http://x"}, shouldErr: true, errKeys: keys("edge-inward"),
		errText: "sip: or sips: URI"},
	{name: "edge-inward on home", args: []string{"--edge-inward=sip:10.0.0.5"}, shouldErr: true, errKeys: keys("edge-inward"),
		errText: "only for role edge"},
	{name: "topology-hiding on home", args: []string{"--topology-hiding"}, shouldErr: true, errKeys: keys("topology-hiding")},
	{name: "dns-server host", args: []string{"--dns-server=127.0.0.53"}},
	{name: "dns-server host and port", args: []string{"--dns-server=127.0.0.1:5353"}},
	{name: "dns-server ipv6", args: []string{"--dns-server=[::1]:53"}},
	{name: "dns-server bad", args: []string{"--dns-server=bad_host:x"}, shouldErr: true, errKeys: keys("dns-server")},
	{name: "role unknown", args: []string{"--role=proxy"}, shouldErr: true, errKeys: keys("role"),
		errText: "unknown role"},
	{name: "log-format bad", args: []string{"--log-format=xml"}, shouldErr: true, errKeys: keys("log-format")},
	{name: "log-level bad", args: []string{"--log-level=trace"}, shouldErr: true, errKeys: keys("log-level")},
	{name: "min-expires zero", args: []string{"--min-expires=0s"}, shouldErr: true, errKeys: keys("min-expires"),
		errText: "positive"},
	{name: "max-expires negative", yaml: "max-expires: -5\n", shouldErr: true, errKeys: keys("max-expires")},
	{name: "default-expires zero", args: []string{"--default-expires=0s"}, shouldErr: true,
		errKeys: keys("default-expires")},
	{name: "min-expires fractional", args: []string{"--min-expires=1500ms"}, shouldErr: true,
		errKeys: keys("min-expires"), errText: "whole number of seconds"},
	{name: "max-expires beyond SIP range", args: []string{"--max-expires=2000000h"}, shouldErr: true,
		errKeys: keys("max-expires")},
	{name: "min above default", args: []string{"--min-expires=2h"}, shouldErr: true, errKeys: keys("min-expires"),
		errText: "above default-expires"},
	{name: "default above max", args: []string{"--max-expires=30m"}, shouldErr: true,
		errKeys: keys("default-expires"), errText: "above max-expires"},
	{name: "expires equal is fine", args: []string{"--min-expires=1h", "--max-expires=1h"}},
	{name: "nonce-lifetime zero", args: []string{"--nonce-lifetime=0s"}, shouldErr: true,
		errKeys: keys("nonce-lifetime")},
	{name: "refresh-interval negative", args: []string{"--refresh-interval=-1s"}, shouldErr: true,
		errKeys: keys("refresh-interval")},
	{name: "sip-timeout zero", yaml: "sip-timeout: 0\n", shouldErr: true, errKeys: keys("sip-timeout")},
	{name: "max-tx-per-conn zero", args: []string{"--max-tx-per-conn=0"}, shouldErr: true,
		errKeys: keys("max-tx-per-conn")},
	{name: "max-tx-per-conn negative", env: []string{"PARLEY_MAX_TX_PER_CONN=-3"}, shouldErr: true,
		errKeys: keys("max-tx-per-conn")},
	{name: "several problems reported together",
		args: []string{"--node-id=", "--log-level=loud", "--max-tx-per-conn=0"}, shouldErr: true,
		errKeys: keys("node-id", "log-level", "max-tx-per-conn")},
}
