package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/parleyd.example.yaml from Keys()")

const examplePath = "testdata/parleyd.example.yaml"

// TestExampleFile keeps testdata/parleyd.example.yaml in step with Keys();
// run `go test ./core/config -update` after changing a key.
func TestExampleFile(t *testing.T) {
	want := ExampleYAML()
	if *update {
		if err := os.WriteFile(examplePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatalf("%v (run go test ./core/config -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale; run go test ./core/config -update", examplePath)
	}
	for _, k := range Keys() {
		if !bytes.Contains(got, []byte("\n"+k.Key+":")) && k.Key != "config" {
			t.Errorf("example lacks key %q", k.Key)
		}
		if !bytes.Contains(got, []byte(k.Env)) {
			t.Errorf("example lacks %s", k.Env)
		}
	}

	// The example loads, and yields exactly the defaults.
	abs, err := filepath.Abs(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--config", abs}, nil, nil)
	if err != nil {
		t.Fatalf("example does not load: %v", err)
	}
	wantCfg := Default()
	wantCfg.ConfigFile = abs
	wantEq(t, "config", c, wantCfg)
}

// TestEncodeRoundTrip writes a non-default config as YAML and loads it back.
func TestEncodeRoundTrip(t *testing.T) {
	tf := writeTLSFiles(t)
	c := Default()
	c.NodeID = "rt-1"
	c.Domains = []string{"a.example", "b.example"}
	c.SIPListen = []string{"udp://[fe80::1%eth0]:5060", "wss://0.0.0.0:443?trust=trusted"}
	c.TLSCert, c.TLSKey = tf.cert, tf.key
	c.AdminToken = "line1\nline2: \"quoted\" #not a comment"
	c.Bootstrap = true
	c.MinExpires = 1<<31*time.Second + time.Second
	c.MaxExpires = c.MinExpires
	c.DefaultExpires = c.MinExpires
	c.RefreshInterval = 1500 * time.Microsecond
	c.MaxTxPerConn = 1
	for _, comments := range []bool{false, true} {
		file := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(file, encodeYAML(c, comments), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Load([]string{"--config=" + file}, nil, nil)
		if err != nil {
			t.Fatalf("comments=%v: %v\n%s", comments, err, encodeYAML(c, comments))
		}
		got.ConfigFile = ""
		wantEq(t, "config", got, c)
	}
}
