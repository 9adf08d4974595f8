package xmpp

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good", "s3cret\n", 0o600)
	groupOK := file("group", "s3cret", 0o640)
	world := file("world", "s3cret", 0o644)
	worldW := file("worldw", "s3cret", 0o602)
	empty := file("empty", "\n", 0o600)
	big := file("big", strings.Repeat("x", 5000), 0o600)

	base := func(kv ...string) map[string]string {
		m := map[string]string{"server": "127.0.0.1:5347", "secret-file": good, "domains": "xmpp.example.net"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	nodeDomains := []string{"Example.COM", "other.example"}

	for _, tc := range []struct {
		name     string
		settings map[string]string
		domains  []string
		err      string // substring of the error; "" for success
		check    func(t *testing.T, c Config)
	}{
		{"defaults", base(), nodeDomains, "", func(t *testing.T, c Config) {
			if c.Server != "127.0.0.1:5347" || c.Component != "example.com" || string(c.Secret) != "s3cret" ||
				c.ReconnectMin != time.Second || c.ReconnectMax != 30*time.Second ||
				c.MaxMessageBytes != DefaultMaxMessageBytes || c.Rate != DefaultRate {
				t.Errorf("%+v", c)
			}
			if got := c.Claims(); len(got) != 1 || got[0] != "*@xmpp.example.net" {
				t.Errorf("claims %v", got)
			}
		}},
		{"everything set", base("component", "gw.example.com", "domains", " xmpp.example.net, Jabber.Example.ORG ,",
			"reconnect-min", "250ms", "reconnect-max", "1m", "max-message-bytes", "1300", "rate", "120/m", "secret-file", groupOK),
			nodeDomains, "", func(t *testing.T, c Config) {
				if c.Component != "gw.example.com" || c.ReconnectMin != 250*time.Millisecond || c.ReconnectMax != time.Minute ||
					c.MaxMessageBytes != 1300 || c.Rate != 2 {
					t.Errorf("%+v", c)
				}
				if got := strings.Join(c.Claims(), " "); got != "*@xmpp.example.net *@jabber.example.org" {
					t.Errorf("claims %s", got)
				}
			}},
		{"rate per second", base("rate", "5/s"), nodeDomains, "", func(t *testing.T, c Config) {
			if c.Rate != 5 {
				t.Errorf("rate %v", c.Rate)
			}
		}},
		{"ipv6 server", base("server", "[::1]:5347"), nodeDomains, "", nil},
		{"no server", base("server", "-"), nodeDomains, "setting server: required", nil},
		{"server without port", base("server", "127.0.0.1"), nodeDomains, "setting server", nil},
		{"server bad port", base("server", "127.0.0.1:70000"), nodeDomains, "port must be", nil},
		{"no component and no node domain", base(), nil, "setting component: required", nil},
		{"component is a JID", base("component", "a@example.com"), nodeDomains, "setting component", nil},
		{"no domains", base("domains", "-"), nodeDomains, "setting domains: required", nil},
		{"blank domains", base("domains", " , "), nodeDomains, "setting domains: required", nil},
		{"bad domain", base("domains", "bad domain"), nodeDomains, "setting domains", nil},
		{"domain twice", base("domains", "a.example,A.example"), nodeDomains, "listed twice", nil},
		{"own domain claimed", base("domains", "example.com"), nodeDomains, "component's own domain", nil},
		{"no secret file", base("secret-file", "-"), nodeDomains, "setting secret-file: required", nil},
		{"missing secret file", base("secret-file", filepath.Join(dir, "nope")), nodeDomains, "no such file", nil},
		{"secret file is a dir", base("secret-file", dir), nodeDomains, "not a regular file", nil},
		{"world-readable secret", base("secret-file", world), nodeDomains, "accessible to others", nil},
		{"world-writable secret", base("secret-file", worldW), nodeDomains, "accessible to others", nil},
		{"empty secret", base("secret-file", empty), nodeDomains, "is empty", nil},
		{"huge secret", base("secret-file", big), nodeDomains, "over 4096 bytes", nil},
		{"bad duration", base("reconnect-min", "soon"), nodeDomains, "setting reconnect-min", nil},
		{"zero duration", base("reconnect-max", "0s"), nodeDomains, "setting reconnect-max", nil},
		{"min over max", base("reconnect-min", "1m", "reconnect-max", "10s"), nodeDomains, "more than reconnect-max", nil},
		{"bad max bytes", base("max-message-bytes", "lots"), nodeDomains, "setting max-message-bytes", nil},
		{"zero max bytes", base("max-message-bytes", "0"), nodeDomains, "setting max-message-bytes", nil},
		{"huge max bytes", base("max-message-bytes", "2000000"), nodeDomains, "setting max-message-bytes", nil},
		{"bad rate", base("rate", "fast"), nodeDomains, "setting rate", nil},
		{"zero rate", base("rate", "0"), nodeDomains, "setting rate", nil},
		{"bad rate unit", base("rate", "5/h"), nodeDomains, "unit is /s or /m", nil},
		{"unknown key", base("secret", "hunter2"), nodeDomains, "setting secret: unknown setting", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseSettings(tc.settings, tc.domains)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.check != nil {
					tc.check(t, c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want one containing %q", err, tc.err)
			}
			if !errors.Is(err, ErrSettings) || !strings.HasPrefix(err.Error(), "xmpp: setting ") {
				t.Errorf("error %q: want xmpp: setting ...: %%w ErrSettings", err)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("s3cret")
	c := Config{Secret: s}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "secret", s, "config", c)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s %q %x", s, c, c, s, s, s)
	if strings.Contains(out, "s3cret") || strings.Contains(out, "73336372") || strings.Contains(out, "czNjcmV0") {
		t.Fatalf("secret printed: %s", out)
	}
}
