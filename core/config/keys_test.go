package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		var out strings.Builder
		_, err := Load([]string{"--node-id=x", arg}, nil, &out)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%s: err = %v, want flag.ErrHelp", arg, err)
		}
		for _, k := range Keys() {
			if !strings.Contains(out.String(), "--"+k.Key) || !strings.Contains(out.String(), k.Env) {
				t.Errorf("%s: usage lacks --%s or %s", arg, k.Key, k.Env)
			}
		}
	}
	// Other errors print nothing: the caller reports the returned error.
	var out strings.Builder
	if _, err := Load([]string{"--nope"}, nil, &out); err == nil || out.Len() != 0 {
		t.Errorf("unknown flag: err = %v, output %q", err, out.String())
	}
}

// TestEverySource sets every key through each of YAML, environment and
// flag, and checks that the value arrives. A new key needs a sample here.
func TestEverySource(t *testing.T) {
	tf := writeTLSFiles(t)
	empty := filepath.Join(tf.dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Sample values in flag syntax, different from the defaults; "yaml"
	// overrides the YAML spelling where it differs.
	samples := map[string]struct{ flag, yaml string }{
		"config":            {flag: empty},
		"node-id":           {flag: "node-9"},
		"data-dir":          {flag: "/srv/parley"},
		"domain":            {flag: "a.example,b.example", yaml: "[a.example, b.example]"},
		"sip-listen":        {flag: "udp://127.0.0.2:5062,tls://127.0.0.2:5063?trust=trusted", yaml: "[udp://127.0.0.2:5062, 'tls://127.0.0.2:5063?trust=trusted']"},
		"sip-advertise":     {flag: "sip.example.com"},
		"tls-cert":          {flag: tf.cert},
		"tls-key":           {flag: tf.key},
		"admin-listen":      {flag: "127.0.0.1:9000", yaml: "'127.0.0.1:9000'"},
		"admin-token":       {flag: "tok"},
		"raft-listen":       {flag: "127.0.0.1:9001", yaml: "'127.0.0.1:9001'"},
		"bootstrap":         {flag: "true"},
		"join":              {flag: "http://127.0.0.1:8060"},
		"role":              {flag: "HOME"}, // director needs cluster-sip: see load_test.go
		"cluster-sip":       {flag: "127.0.0.1:9070", yaml: "'127.0.0.1:9070'"},
		"plugin-link":       {flag: "127.0.0.1:9071", yaml: "'127.0.0.1:9071'"},
		"plugin-lease-ttl":  {flag: "45s"},
		"log-format":        {flag: "json"},
		"log-level":         {flag: "error"},
		"min-expires":       {flag: "2m"},
		"max-expires":       {flag: "2h"},
		"default-expires":   {flag: "20m"},
		"nonce-lifetime":    {flag: "1m30s"},
		"digest-algorithms": {flag: "SHA-256"},
		"refresh-interval":  {flag: "250ms"},
		"max-tx-per-conn":   {flag: "7"},
		"sip-timeout":       {flag: "10s"},
		"pprof-listen":      {flag: "127.0.0.1:6060", yaml: "'127.0.0.1:6060'"},
		"xcap-listen":       {flag: "127.0.0.1:9062", yaml: "'127.0.0.1:9062'"},
		"tls-ca":            {flag: tf.cert},
		"flood-rate":        {flag: "50"},
		"recurse-redirects": {flag: "true"},
		"always-flow":       {flag: "true"},
		"failover-timer":    {flag: "2s"},
		"invite-fork":       {flag: "serial"},
		"metrics-token":     {flag: "true"},
		"max-branches":      {flag: "3"},
		"offline-per-user":  {flag: "5"},
		"offline-total":     {flag: "500"},
		"offline-lifetime":  {flag: "1h0m0s", yaml: "1h"},
		"flood-burst":       {flag: "80"},
		"flood-ban":         {flag: "5m"},
		"trusted-peers":     {flag: "peer.example"},
		"edge-inward":       {flag: "sip:10.0.0.5:5060;transport=tcp", yaml: "['sip:10.0.0.5:5060;transport=tcp']"},
		"topology-hiding":   {flag: "true"},
		"dns-server":        {flag: "127.0.0.53:53", yaml: "'127.0.0.53:53'"},
		"plugin-dir":        {flag: "/opt/parley/plugins"},
	}
	for k, v := range map[string]string{"admin-tls-cert": tf.cert, "admin-tls-key": tf.key, "xcap-tls-cert": tf.cert, "xcap-tls-key": tf.key} {
		samples[k] = struct{ flag, yaml string }{flag: v}
	}
	for k, v := range map[string]string{"cluster-ca": tf.cert, "cluster-cert": tf.cert, "cluster-key": tf.key,
		"snapshot-interval": "5m", "snapshot-threshold": "100", "raft-store": "BOLT"} {
		samples[k] = struct{ flag, yaml string }{flag: v}
	}
	// The tls:// sample listener needs both TLS files, and each TLS file
	// needs the other.
	tlsKeys := map[string]bool{"sip-listen": true, "tls-cert": true, "tls-key": true}
	base := map[string]string{"tls-cert": tf.cert, "tls-key": tf.key}
	// The cluster TLS files go together too.
	clusterKeys := map[string]bool{"cluster-ca": true, "cluster-cert": true, "cluster-key": true}
	clusterBase := map[string]string{"cluster-ca": tf.cert, "cluster-cert": tf.cert, "cluster-key": tf.key}
	// So do the admin and XCAP key pairs.
	pairOf := map[string][2]string{
		"admin-tls-cert": {"admin-tls-key", tf.key}, "admin-tls-key": {"admin-tls-cert", tf.cert},
		"xcap-tls-cert": {"xcap-tls-key", tf.key}, "xcap-tls-key": {"xcap-tls-cert", tf.cert},
	}

	for _, k := range Keys() {
		s, ok := samples[k.Key]
		if !ok {
			t.Errorf("key %q has no sample in TestEverySource", k.Key)
			continue
		}
		f := fieldByKey[k.Key]
		want := Default()
		wv := reflect.ValueOf(&want).Elem().Field(f.index)
		if err := f.setString(wv, s.flag, false); err != nil {
			t.Fatalf("%s: sample %q: %v", k.Key, s.flag, err)
		}
		want.normalize()
		if reflect.DeepEqual(wv.Interface(), reflect.ValueOf(Default()).Field(f.index).Interface()) && k.Key != "role" {
			t.Errorf("%s: sample %q equals the default", k.Key, s.flag)
		}
		for _, src := range []string{"yaml", "env", "flag"} {
			if src == "yaml" && k.Key == "config" {
				continue
			}
			t.Run(k.Key+"/"+src, func(t *testing.T) {
				var args, env []string
				for bk, bv := range base {
					if tlsKeys[k.Key] && bk != k.Key {
						args = append(args, "--"+bk+"="+bv)
					}
				}
				for bk, bv := range clusterBase {
					if clusterKeys[k.Key] && bk != k.Key {
						args = append(args, "--"+bk+"="+bv)
					}
				}
				if other, ok := pairOf[k.Key]; ok {
					args = append(args, "--"+other[0]+"="+other[1])
				}
				// Keys of the edge role need it, and an edge its inward hops.
				switch k.Key {
				case "edge-inward":
					args = append(args, "--role=edge")
				case "topology-hiding":
					args = append(args, "--role=edge", "--edge-inward=sip:10.0.0.5")
				}
				switch src {
				case "yaml":
					y := s.yaml
					if y == "" {
						y = "'" + s.flag + "'"
					}
					file := filepath.Join(t.TempDir(), "c.yaml")
					if err := os.WriteFile(file, []byte(k.Key+": "+y+"\n"), 0o600); err != nil {
						t.Fatal(err)
					}
					args = append(args, "--config="+file)
				case "env":
					env = []string{k.Env + "=" + s.flag}
				case "flag":
					args = append(args, "--"+k.Key+"="+s.flag)
				}
				c, err := Load(args, env, nil)
				if err != nil {
					t.Fatal(err)
				}
				got := reflect.ValueOf(c).Field(f.index).Interface()
				if !reflect.DeepEqual(got, wv.Interface()) {
					t.Errorf("got %#v, want %#v", got, wv.Interface())
				}
			})
		}
	}
}

// TestDefaultsRoundTrip passes every KeyInfo.Default back as a flag, and
// checks that the result is Default(): the documented defaults are exact.
func TestDefaultsRoundTrip(t *testing.T) {
	var args []string
	for _, k := range Keys() {
		args = append(args, "--"+k.Key+"="+k.Default)
	}
	c, err := Load(args, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "config", c, Default())
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
}

func TestKeys(t *testing.T) {
	ks := Keys()
	typ := reflect.TypeFor[Config]()
	if len(ks) != typ.NumField() {
		t.Fatalf("Keys() has %d entries for %d fields", len(ks), typ.NumField())
	}
	seen := map[string]bool{}
	for i, k := range ks {
		sf := typ.Field(i)
		if k.Key != sf.Tag.Get("key") || k.Help != sf.Tag.Get("help") || k.Help == "" {
			t.Errorf("field %s: KeyInfo %+v does not match its tags", sf.Name, k)
		}
		if seen[k.Key] {
			t.Errorf("duplicate key %q", k.Key)
		}
		seen[k.Key] = true
		if want := "PARLEY_" + strings.ToUpper(strings.ReplaceAll(k.Key, "-", "_")); k.Env != want {
			t.Errorf("%s: Env = %q, want %q", k.Key, k.Env, want)
		}
	}
	want := map[string]string{
		"config": "", "node-id": "n1", "data-dir": "./data", "domain": "localhost",
		"sip-listen": "udp://127.0.0.1:5060,tcp://127.0.0.1:5060", "sip-advertise": "", "tls-cert": "",
		"tls-key": "", "admin-listen": "127.0.0.1:8060", "admin-token": "", "raft-listen": "127.0.0.1:7060",
		"bootstrap": "false", "join": "", "role": "home", "log-format": "text", "log-level": "info",
		"min-expires": "1m", "max-expires": "1h", "default-expires": "1h", "nonce-lifetime": "5m", "digest-algorithms": "MD5",
		"refresh-interval": "3s", "max-tx-per-conn": "10", "sip-timeout": "32s", "pprof-listen": "", "xcap-listen": "127.0.0.1:8062", "tls-ca": "", "trusted-peers": "", "flood-rate": "200", "flood-burst": "400", "flood-ban": "1m", "recurse-redirects": "false",
		"always-flow": "false", "failover-timer": "4s", "invite-fork": "parallel", "metrics-token": "false", "admin-tls-cert": "", "admin-tls-key": "", "xcap-tls-cert": "", "xcap-tls-key": "", "max-branches": "8", "offline-per-user": "100", "offline-total": "10000", "offline-lifetime": "168h",
		"edge-inward": "", "topology-hiding": "false", "dns-server": "",
		"cluster-ca": "", "cluster-cert": "", "cluster-key": "", "snapshot-interval": "30s", "snapshot-threshold": "8192", "raft-store": "wal",
		"cluster-sip":      "auto",
		"plugin-link":      "127.0.0.1:0",
		"plugin-dir":       "",
		"plugin-lease-ttl": "10s",
	}
	if len(want) != len(ks) {
		t.Errorf("test knows %d keys, Keys() has %d: update the expected defaults", len(want), len(ks))
	}
	for _, k := range ks {
		if d, ok := want[k.Key]; !ok || d != k.Default {
			t.Errorf("%s: Default = %q, want %q (known: %v)", k.Key, k.Default, d, ok)
		}
	}
}

func TestDescribeRejectsBadStructs(t *testing.T) {
	for name, typ := range map[string]reflect.Type{
		"missing help": reflect.TypeFor[struct {
			A string `key:"a"`
		}](),
		"missing key": reflect.TypeFor[struct {
			A string `help:"h"`
		}](),
		"duplicate key": reflect.TypeFor[struct {
			A, B string `key:"a" help:"h"`
		}](),
		"unsupported type": reflect.TypeFor[struct {
			A float64 `key:"a" help:"h"`
		}](),
		"bad key": reflect.TypeFor[struct {
			A string `key:"A_b" help:"h"`
		}](),
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: describe did not panic", name)
				}
			}()
			describe(typ)
		}()
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", time.Minute: "1m", 90 * time.Second: "1m30s", time.Hour + time.Second: "1h0m1s",
		61 * time.Minute: "1h1m", 0: "0s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(want); err != nil || back != d {
			t.Errorf("%q does not parse back to %v", want, d)
		}
	}
}
