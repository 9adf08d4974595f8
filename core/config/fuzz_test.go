package config

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// FuzzLoadYAML loads arbitrary bytes as the configuration file. Load must
// never panic, and a config it accepts must validate and survive being
// written back out as YAML and reloaded.
func FuzzLoadYAML(f *testing.F) {
	f.Add([]byte("node-id: n1\n"))
	// Inputs that made YAML parsers panic in the past (go-yaml/yaml
	// issues 323, 665, 666, 833).
	for _, s := range []string{
		"\"\\0\\\r\n", "  0: [\n] 0", "? ? \"\n\" 0", "    - {\n000}0", " \ufeff\n", "? \ufeff: \ufeff\n",
		"#\n-\n-\n0", "0: [:!00 \xef", "! !00 \xf6", "! !!0 \xf7", "a: &a [*a]\n", "<<: {node-id: x}\n",
	} {
		f.Add([]byte(s))
	}
	// One directory per fuzzing process: the fuzz function runs serially
	// within a process, and a TempDir per input would dominate the run time.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(dir, "parleyd.yaml")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load([]string{"--config", file}, nil, nil)
		if err != nil {
			if c.NodeID != "" {
				t.Fatalf("error %v with non-zero config", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted a config that does not validate: %v", err)
		}
		ls, err := c.Listeners()
		if err != nil || len(ls) == 0 {
			t.Fatalf("Listeners() = %v, %v", ls, err)
		}
		// Round trip, in memory to keep the fuzzer fast.
		enc := encodeYAML(c, false)
		c2 := Default()
		if err := applyYAML(reflect.ValueOf(&c2).Elem(), "re-encoded", enc); err != nil {
			t.Fatalf("re-encoded config does not load: %v\n%s", err, enc)
		}
		c2.normalize()
		c2.ConfigFile = c.ConfigFile
		wantEq(t, "reloaded config", c2, c)
	})
}

// FuzzParseListener checks that parseListener never panics and that an
// accepted entry, rebuilt from its parts, parses to the same listener.
func FuzzParseListener(f *testing.F) {
	for _, s := range []string{
		"udp://127.0.0.1:5060", "tcp://[::1]:5080?trust=trusted", "wss://sip.example.com:443?trust=trusted",
		"TLS://[fe80::1%eth0]:5061", "foo://1.2.3.4:5", "udp://:5060", "ws://1.2.3.4:80/sip", "udp://[1.2.3.4]:5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseListener(s)
		if err != nil {
			return
		}
		if l.Raw != s || l.Port < 1 || l.Port > 65535 || !contains(schemes, l.Scheme) || !contains(trusts, l.Trust) {
			t.Fatalf("parseListener(%q) = %+v", s, l)
		}
		rebuilt := l.Scheme + "://" + net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) + "?trust=" + l.Trust
		l2, err := parseListener(rebuilt)
		if err != nil {
			t.Fatalf("rebuilt %q from %q does not parse: %v", rebuilt, s, err)
		}
		l2.Raw = l.Raw
		if l2 != l {
			t.Fatalf("rebuilt %q: %+v, want %+v", rebuilt, l2, l)
		}
		if _, _, err := net.SplitHostPort(l.Addr()); err != nil {
			t.Fatalf("Addr() %q: %v", l.Addr(), err)
		}
	})
}
