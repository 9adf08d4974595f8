//go:build interop

package interop

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The PSTN adapter (gateways/pstn, bin/parley-pstn) in parleyd's chain,
// its configuration written with parleyctl pstn apply, two sipp
// gateways on loopback (gwA first, gwB second: the route "seattle"
// lists them in that order), alice calling as a sipp UAC.

// pstnDoc is the configuration: baresip-style dialling
// (912065550100 -> +12065550100), gwA trusted with PAI and a 1 s
// fast-failover timer, gwB in US national format.
func pstnDoc(gwA, gwB int) string {
	return fmt.Sprintf(`{
  "dial_plans": [{"name": "us", "scope": "global", "rules": [
    {"name": "us-ld", "pattern": "^9?1?(\\d{10})$", "translation": "+1$1"}]}],
  "users": [{"name": "alice@localhost", "numbers": ["tel:+12065550101"]}],
  "policies": [{"name": "local", "default": true, "usages": ["local"], "blocked_prefixes": ["+1900"]}],
  "routes": [{"name": "seattle", "usages": ["local"], "prefix": "+1206",
    "gateways": {"members": [{"trunk": "gwA"}, {"trunk": "gwB"}]}}],
  "trunks": [
    {"name": "gwA", "address": "127.0.0.1:%d", "trusted": true, "caller_id": {"assert_identity": true}, "failover": {"timer": "1s"}},
    {"name": "gwB", "address": "127.0.0.1:%d", "called": {"format": "national", "country": "US"}}]
}`, gwA, gwB)
}

// startPSTN starts parleyd with the adapter in its chain (before the
// router, INVITEs only, strict-routed tel: numbers too) and the
// configuration applied; it waits until the adapter routes.
func startPSTN(t *testing.T, gwA, gwB int) *parleyd {
	t.Helper()
	dir := t.TempDir()
	src, err := os.Open(filepath.Join(pluginBinDir, "parley-pstn"))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(filepath.Join(dir, "parley-pstn"), os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(dst, src)
	src.Close()
	if cerr := dst.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	p := startParleyd(t, "--plugin-dir", dir)
	p.addUser("alice", "secret")
	doc := filepath.Join(t.TempDir(), "pstn.json")
	if err := os.WriteFile(doc, []byte(pstnDoc(gwA, gwB)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := p.ctl("pstn", "apply", doc); err != nil || !strings.Contains(out, "version 1") {
		t.Fatalf("pstn apply: %q %v", out, err)
	}
	if _, err := p.ctl("app", "add", "pstn", "--kind", "plugin", "--command", "parley-pstn", "--position", "50",
		"--methods", "INVITE", "--strict-route"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() error {
		out, err := p.ctl("app", "list")
		if err != nil || !strings.Contains(out, "up pid") {
			return fmt.Errorf("parley-pstn not up: %q %v", out, err)
		}
		return nil
	})
	return p
}

// invitesTo lists the Request-URIs and Call-IDs of the INVITEs a sipp
// gateway received.
func invitesTo(gw *sippProc) (ruris, callIDs []string) {
	for _, m := range sippLog(gw.msgLog) {
		if !m.sent && m.msg.Method == "INVITE" {
			ruris = append(ruris, m.msg.RURI)
			callIDs = append(callIDs, m.msg.Header("Call-ID"))
		}
	}
	return ruris, callIDs
}

// TestPSTNFailover: alice dials 912065550100 (no user=phone, as baresip
// does). (a) gwA answers 503: the call reaches gwB with the number in
// gwB's format (the UAS scenario's regexp fails the call otherwise),
// same Call-ID, is answered, and ACK and BYE reach gwB; alice never sees
// the 503. (b) gwA is silent: gwB gets the call after the 1 s
// fast-failover timer, within 2.5 s. (c) gwA answers 486: alice gets
// 486, gwB never hears of the call. (d) a numeric user that exists
// (2065550177) is reached as a user, not through a trunk. (e) parleyctl
// pstn test prints the route.
func TestPSTNFailover(t *testing.T) {
	ports := freePorts(t, 2, 1)
	gwA, gwB := ports[0], ports[1]
	p := startPSTN(t, gwA, gwB)
	const dialled = "sip:912065550100@localhost"

	call := func(name string) (*sippProc, error) {
		return runSipp(t, p.sipAddr(), sipp{Name: name, Scenario: "route_uac_invite.xml", User: "alice", Password: "secret",
			Keys: map[string]string{"ruri": dialled}, Timeout: 15 * time.Second})
	}

	t.Run("503 then gwB", func(t *testing.T) {
		a := startSipp(t, p.sipAddr(), sipp{Name: "gwA-503", Scenario: "pstn_gw_503.xml", LocalPort: gwA, Timeout: 15 * time.Second})
		b := startSipp(t, p.sipAddr(), sipp{Name: "gwB", Scenario: "pstn_gw_answer.xml", LocalPort: gwB, Timeout: 15 * time.Second})
		time.Sleep(300 * time.Millisecond) // let the server-mode sipps bind
		var err error
		for i := 0; i < 20; i++ { // the plugin may still be loading its plan: the router answers 404 meanwhile
			if _, err = call(fmt.Sprintf("alice-503-%d", i)); err == nil || !strings.Contains(err.Error(), "404") {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("alice's call: %v", err)
		}
		if err := a.wait(); err != nil {
			t.Errorf("gwA: %v", err)
		}
		if err := b.wait(); err != nil {
			t.Errorf("gwB: %v", err)
		}
		ra, ca := invitesTo(a)
		rb, cb := invitesTo(b)
		if len(ra) != 1 || len(rb) != 1 || ca[0] != cb[0] {
			t.Fatalf("INVITEs: gwA %q %q, gwB %q %q (want one each, one Call-ID)", ra, ca, rb, cb)
		}
		t.Logf("gwA got %s, gwB got %s", ra[0], rb[0])
	})

	t.Run("silent gwA: fast failover", func(t *testing.T) {
		a := startSipp(t, p.sipAddr(), sipp{Name: "gwA-silent", Scenario: "route_gw_silent_invite.xml", LocalPort: gwA, Timeout: 15 * time.Second})
		b := startSipp(t, p.sipAddr(), sipp{Name: "gwB-after-silence", Scenario: "pstn_gw_answer.xml", LocalPort: gwB, Timeout: 15 * time.Second})
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		if _, err := call("alice-silent"); err != nil {
			t.Fatalf("alice's call: %v", err)
		}
		took := time.Since(start)
		if err := b.wait(); err != nil {
			t.Errorf("gwB: %v", err)
		}
		_ = waitOrKill(a, 8*time.Second)
		ra, _ := invitesTo(a)
		rb, _ := invitesTo(b)
		if len(ra) == 0 || len(rb) != 1 {
			t.Fatalf("INVITEs: gwA %q, gwB %q", ra, rb)
		}
		// The call: 407 round, the 1 s timer, gwB's answer, ACK, 300 ms, BYE.
		if took < time.Second || took > 3500*time.Millisecond {
			t.Errorf("the call took %s: want the 1 s fast-failover timer, then gwB at once", took)
		}
	})

	t.Run("486 stops", func(t *testing.T) {
		a := startSipp(t, p.sipAddr(), sipp{Name: "gwA-486", Scenario: "pstn_gw_486.xml", LocalPort: gwA, Timeout: 15 * time.Second})
		b := startSipp(t, p.sipAddr(), sipp{Name: "gwB-never", Scenario: "route_gw_silent_invite.xml", LocalPort: gwB, Timeout: 5 * time.Second})
		time.Sleep(300 * time.Millisecond)
		if _, err := runSipp(t, p.sipAddr(), sipp{Name: "alice-486", Scenario: "pstn_uac_invite_486.xml", User: "alice", Password: "secret",
			Keys: map[string]string{"ruri": dialled}, Timeout: 15 * time.Second}); err != nil {
			t.Fatalf("alice's call must end with gwA's 486: %v", err)
		}
		if err := a.wait(); err != nil {
			t.Errorf("gwA: %v", err)
		}
		time.Sleep(500 * time.Millisecond) // a wrong branch to gwB would have arrived by now
		_ = waitOrKill(b, 0)
		if rb, _ := invitesTo(b); len(rb) != 0 {
			t.Errorf("gwB got %q after a 486", rb)
		}
	})

	t.Run("numeric user", func(t *testing.T) {
		p.addUser("2065550177", "secret")
		cid := uniqueCallID(t)
		uas := startRegisteredUAS(t, p, "uas_invite.xml", "2065550177", cid)
		a := startSipp(t, p.sipAddr(), sipp{Name: "gwA-trap", Scenario: "route_gw_silent_invite.xml", LocalPort: gwA, Timeout: 3 * time.Second})
		if _, err := runSipp(t, p.sipAddr(), sipp{Name: "alice-to-user", Scenario: "route_uac_invite.xml", User: "alice", Password: "secret",
			CallID: cid, Keys: map[string]string{"ruri": "sip:2065550177@localhost"}, Timeout: 15 * time.Second}); err != nil {
			t.Fatalf("alice calling the user 2065550177: %v", err)
		}
		if err := uas.wait(); err != nil {
			t.Errorf("user 2065550177's UAS: %v", err)
		}
		if ra, _ := invitesTo(a); len(ra) != 0 {
			t.Errorf("a call to an existing numeric user went to gwA: %q", ra)
		}
	})

	t.Run("parleyctl pstn test", func(t *testing.T) {
		out, err := p.ctl("pstn", "test", "alice@localhost", "912065550100")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"number:    +12065550100 (E.164)", "1. gwA called +12065550100", "2. gwB called 2065550100"} {
			if !strings.Contains(out, want) {
				t.Errorf("pstn test: %q not in\n%s", want, out)
			}
		}
	})
}
