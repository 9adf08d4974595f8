//go:build interop

package interop

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestXMPPGatewayFailover: the XMPP gateway as the singleton it is on a
// three-node cluster. alice is registered on a node that does not run it;
// romeo (XMPP) is subscribed to her presence. kill -9 the node holding
// the gateway's lease: another node's instance connects to Prosody (which
// kicks the half-dead old component, component_conflict_resolve =
// kick_old) and messages flow both ways again within the 20 s the issue
// asks for (the lease lapses after plugin-lease-ttl, 10 s by default),
// and romeo's subscription still carries alice's presence: it lives in
// the replicated state, not in the process that died.
func TestXMPPGatewayFailover(t *testing.T) {
	start := time.Now()
	pros := startProsody(t, "xmpp.test", domain, "interop-component-secret", map[string]string{"juliet": "j", "romeo": "r"})
	dir := t.TempDir()
	if err := copyFile(filepath.Join(pluginBinDir, "parley-xmpp"), filepath.Join(dir, "parley-xmpp")); err != nil {
		t.Fatal(err)
	}
	nodes := startCluster(t, 3, "--plugin-dir", dir)
	nodes[0].addUser("alice", "secret")
	if _, err := nodes[0].ctl("rules", "allow", "alice", "sip:romeo@xmpp.test"); err != nil {
		t.Fatal(err)
	}
	addXMPPGateway(t, nodes[0], pros)
	holder := -1
	waitFor(t, 30*time.Second, func() error {
		var err error
		holder, err = appHolder(t, nodes, "xmpp")
		return err
	})
	home := nodes[(holder+1)%len(nodes)]
	alice := newSipUA(t, home.sipAddr(), "alice", "secret")
	if res, err := alice.register(300); err != nil || res.Code != 200 {
		t.Fatalf("alice REGISTER: %v %v", res, err)
	}
	juliet := startXMPPUser(t, pros, "juliet@xmpp.test/balcony", "j")
	romeo := startXMPPUser(t, pros, "romeo@xmpp.test/garden", "r")
	waitGatewayUp(t, alice, "up-"+randHex(8), "before")
	juliet.mustWait("alice's first message", 10*time.Second, func(e xmppEvent) bool { return e.Ev == "message" && e.Body == "before" })
	fromAlice := func(typ string) func(e xmppEvent) bool {
		return func(e xmppEvent) bool {
			return e.Ev == "presence" && strings.HasPrefix(e.From, "alice@"+domain) && e.Type == typ
		}
	}
	romeo.cmd(map[string]string{"cmd": "subscribe", "to": "alice@" + domain})
	romeo.mustWait("subscribed", 10*time.Second, fromAlice("subscribed"))
	romeo.mustWait("alice online", 10*time.Second, fromAlice("available"))
	t.Logf("gateway on n%d, alice on %s, all up in %v", holder+1, home.sipAddr(), time.Since(start).Round(time.Millisecond))

	killed := time.Now()
	nodes[holder].kill9()
	// alice writes to juliet until one message arrives: each attempt has
	// its own body, so an answer from the dead instance cannot count.
	back := false
	codes := map[int]int{} // what alice got meanwhile
	for i := 0; i < 80 && time.Since(killed) < 30*time.Second; i++ {
		body := fmt.Sprintf("after-%d", i)
		code := sipMessage(t, alice, "sip:juliet@xmpp.test", "fo-"+randHex(8), body)
		codes[code]++
		if code == 200 {
			if _, err := juliet.wait(body, 2*time.Second, func(e xmppEvent) bool { return e.Ev == "message" && e.Body == body }); err == nil {
				back = true
				break
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	took := time.Since(killed)
	if !back {
		t.Fatalf("no message from alice reached juliet within %v of kill -9 of n%d", took.Round(time.Millisecond), holder+1)
	}
	now, err := appHolder(t, nodes, "xmpp")
	t.Logf("SIP -> XMPP back %v after kill -9 of n%d; gateway now on n%d (%v); alice's answers meanwhile %v", took.Round(time.Millisecond), holder+1, now+1, err, codes)
	for code := range codes {
		if code != 200 && code < 400 {
			t.Errorf("a MESSAGE during the failover got %d: neither delivered nor refused", code)
		}
	}
	if took > 20*time.Second {
		t.Errorf("the gateway came back %v after its holder died; the issue asks for 20 s", took.Round(time.Millisecond))
	}

	// XMPP -> SIP through the new instance.
	juliet.cmd(map[string]string{"cmd": "send", "to": "alice@" + domain, "body": "still there?"})
	if _, err := waitSIPRequest(alice, 10*time.Second, func(m *sipMsg) bool { return m.Method == "MESSAGE" && m.Body == "still there?" }); err != nil {
		t.Fatal(err)
	}
	// romeo's subscription survived: alice's next presence reaches him.
	alice.mustPublish(levelNamed(t, "busy").pidf("alice"), "", 300)
	romeo.mustWait("alice busy after the failover", 15*time.Second, fromAlice("dnd"))
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}
