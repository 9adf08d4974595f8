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
	for _, tc := range slices.Concat(loadCases, syntaxCases, validationCases) {
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

// loadCases are the sources and precedence cases; the syntax-error and
// per-key validation cases live in load_errors_test.go.
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
}
