//go:build interop

package interop

import (
	"strings"
	"testing"
	"time"
)

// TestXMPPGatewayPresence: our SIP user alice SUBSCRIBEs to
// sip:juliet@xmpp.test; the gateway mirrors the watcher as an XMPP
// subscription from alice@localhost, slixmpp approves it (and, being
// auto-subscribing, asks back: the gateway must not loop with it), and
// juliet's presence reaches alice's NOTIFYs at the level of the presence
// table: available -> online, dnd with a level's text -> that level,
// away -> away, unavailable -> offline.
func TestXMPPGatewayPresence(t *testing.T) {
	start := time.Now()
	pros, _, alice := startXMPPGateway(t, map[string]string{"juliet": "julietpw"})
	juliet := startXMPPUser(t, pros, "juliet@xmpp.test/balcony", "julietpw")
	waitGatewayUp(t, alice, "up-"+randHex(8), "are you there?")
	juliet.mustWait("alice's message", 10*time.Second, func(e xmppEvent) bool { return e.Ev == "message" })

	// Before the gateway knows anything of juliet: what the agent sends.
	sub := alice.mustSubscribe("sip:juliet@xmpp.test", "presence", 600)
	first, err := sub.next(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first NOTIFY before any presence is known (RFC 8048 5.3.2 wants an empty one): Subscription-State %q, %d bytes of %q",
		first.Header("Subscription-State"), len(first.Body), first.Header("Content-Type"))

	// The watcher becomes one XMPP subscription request from alice@localhost.
	juliet.mustWait("alice's subscribe", 15*time.Second, func(e xmppEvent) bool {
		return e.Ev == "presence" && e.Type == "subscribe" && strings.HasPrefix(e.From, "alice@"+domain)
	})
	// slixmpp approved it: juliet's presence (no show) arrives as online.
	level := func(m *sipMsg) string {
		b := m.Body
		switch {
		case strings.Contains(b, "<basic>closed</basic>") && !strings.Contains(b, "<basic>open</basic>"):
			return "offline"
		case strings.Contains(b, "do-not-disturb"):
			return "do-not-disturb"
		case strings.Contains(b, "meeting"):
			return "in-a-meeting"
		case strings.Contains(b, "be-right-back"):
			return "be-right-back"
		case strings.Contains(b, "<rpid:busy/>"):
			return "busy"
		case strings.Contains(b, "<rpid:away/>"):
			return "away"
		}
		return "online"
	}
	waitLevel := func(want, note string) *sipMsg {
		t.Helper()
		m, err := sub.waitFor(want, 15*time.Second, func(m *sipMsg) bool {
			return level(m) == want && strings.Contains(m.Body, note) && strings.Contains(m.Body, "gr=balcony")
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	waitLevel("online", "")
	t.Logf("subscription approved, juliet online at alice after %v", time.Since(start).Round(time.Millisecond))

	// No storm: slixmpp answered with subscribed and its own subscribe;
	// the gateway answers neither. Over 3 s juliet sees at most the one
	// subscribe from alice@localhost already taken.
	storm := 0
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		e, err := juliet.wait("presence from the gateway", time.Until(deadline), func(e xmppEvent) bool {
			return e.Ev == "presence" && strings.HasPrefix(e.From, "alice@"+domain)
		})
		if err != nil {
			break
		}
		storm++
		t.Logf("juliet got %+v", e)
	}
	if storm > 1 {
		t.Errorf("juliet got %d presence stanzas from alice@%s in 3 s after the approval: a subscription loop", storm, domain)
	}

	// juliet's shows reach alice's NOTIFYs at the table's levels.
	for _, tc := range []struct{ show, status, level, note string }{
		{"dnd", "Do not disturb: deadline", "do-not-disturb", "deadline"},
		{"dnd", "In a meeting", "in-a-meeting", ""},
		{"dnd", "writing", "busy", "writing"},
		{"away", "Be right back", "be-right-back", ""},
		{"xa", "gone fishing", "away", "gone fishing"},
		{"chat", "", "online", ""},
	} {
		juliet.cmd(map[string]string{"cmd": "presence", "show": tc.show, "status": tc.status})
		waitLevel(tc.level, tc.note)
	}
	juliet.cmd(map[string]string{"cmd": "presence", "type": "unavailable", "status": "bye"})
	if _, err := sub.waitFor("offline", 15*time.Second, func(m *sipMsg) bool { return level(m) == "offline" }); err != nil {
		t.Fatal(err)
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

// TestXMPPGatewaySubscriptions: subscriptions with consent both ways
// through a real Prosody. XMPP -> SIP: romeo's subscribe to alice waits
// (pending at our presence agent) until alice allows him; then he gets
// 'subscribed' and each of the seven levels alice PUBLISHes as the
// presence table's show and status; tybalt's waits until alice blocks
// him: 'unsubscribed'; mercutio, already blocked, is let in but sees
// alice offline whatever she publishes; romeo's unsubscribe ends it (no
// more presence). SIP -> XMPP: alice's SUBSCRIBE to the nurse (who
// approves) brings her presence and alice's unsubscribe reaches her as
// 'unsubscribe'; juliet refuses alice's ('unsubscribed') and alice never
// sees her presence.
func TestXMPPGatewaySubscriptions(t *testing.T) {
	start := time.Now()
	users := map[string]string{"romeo": "r", "tybalt": "t", "mercutio": "m", "juliet": "j", "nurse": "n"}
	pros, p, alice := startXMPPGateway(t, users)
	if _, err := p.ctl("rules", "block", "alice", "sip:mercutio@xmpp.test"); err != nil {
		t.Fatal(err)
	}
	xu := map[string]*xmppUser{}
	for name, pw := range users {
		xu[name] = startXMPPUser(t, pros, name+"@xmpp.test/home", pw)
	}
	xu["juliet"].cmd(map[string]string{"cmd": "manual"})
	xu["juliet"].mustWait("manual", 5*time.Second, func(e xmppEvent) bool { return e.Ev == "manual" })
	waitGatewayUp(t, alice, "up-"+randHex(8), "are you there?")
	t.Logf("set up in %v", time.Since(start).Round(time.Millisecond))
	fromAlice := func(typ string) func(e xmppEvent) bool {
		return func(e xmppEvent) bool {
			return e.Ev == "presence" && strings.HasPrefix(e.From, "alice@"+domain) && (typ == "" || e.Type == typ)
		}
	}

	// XMPP -> SIP, pending until alice decides.
	xu["romeo"].cmd(map[string]string{"cmd": "subscribe", "to": "alice@" + domain})
	xu["tybalt"].cmd(map[string]string{"cmd": "subscribe", "to": "alice@" + domain})
	xu["mercutio"].cmd(map[string]string{"cmd": "subscribe", "to": "alice@" + domain})
	// mercutio, blocked before he asked: let in, and alice is offline to him.
	xu["mercutio"].mustWait("subscribed", 10*time.Second, fromAlice("subscribed"))
	xu["mercutio"].mustWait("alice unavailable", 10*time.Second, fromAlice("unavailable"))
	for _, who := range []string{"romeo", "tybalt"} {
		if e, err := xu[who].wait("nothing while pending", time.Second, fromAlice("")); err == nil {
			t.Fatalf("%s got %+v before alice decided", who, e)
		}
	}
	if _, err := p.ctl("rules", "allow", "alice", "sip:romeo@xmpp.test"); err != nil {
		t.Fatal(err)
	}
	xu["romeo"].mustWait("subscribed", 10*time.Second, fromAlice("subscribed"))
	// registered, never published: online (no show).
	xu["romeo"].mustWait("alice online", 10*time.Second, func(e xmppEvent) bool { return fromAlice("")(e) && e.Type == "available" })
	if _, err := p.ctl("rules", "block", "alice", "sip:tybalt@xmpp.test"); err != nil {
		t.Fatal(err)
	}
	xu["tybalt"].mustWait("unsubscribed", 10*time.Second, fromAlice("unsubscribed"))
	t.Logf("consent decided (allowed, refused, blocked) after %v", time.Since(start).Round(time.Millisecond))

	// The seven levels alice publishes, at romeo; mercutio sees none.
	etag := ""
	for _, tc := range []struct{ level, typ, status string }{
		{"busy", "dnd", "Busy"},
		{"in-a-meeting", "dnd", "In a meeting"},
		{"do-not-disturb", "dnd", "Do not disturb"},
		{"be-right-back", "away", "Be right back"},
		{"away", "away", ""},
		{"online", "available", ""},
		{"offline", "unavailable", ""},
	} {
		etag = alice.mustPublish(levelNamed(t, tc.level).pidf("alice"), etag, 300)
		e := xu["romeo"].mustWait(tc.level, 10*time.Second, func(e xmppEvent) bool { return fromAlice(tc.typ)(e) })
		if tc.status != "" && !strings.HasPrefix(e.Status, tc.status) {
			t.Errorf("%s arrived as %s with status %q, want it to start with %q", tc.level, e.Type, e.Status, tc.status)
		}
	}
	if e, err := xu["mercutio"].wait("nothing but offline", 500*time.Millisecond, func(e xmppEvent) bool {
		return fromAlice("")(e) && e.Type != "unavailable"
	}); err == nil {
		t.Errorf("blocked mercutio saw alice %+v", e)
	}

	// romeo unsubscribes: unavailable, then nothing of alice any more.
	xu["romeo"].cmd(map[string]string{"cmd": "unsubscribe", "to": "alice@" + domain})
	xu["romeo"].mustWait("unavailable after unsubscribe", 10*time.Second, fromAlice("unavailable"))
	etag = alice.mustPublish(levelNamed(t, "busy").pidf("alice"), etag, 300)
	if e, err := xu["romeo"].wait("nothing after unsubscribe", 1500*time.Millisecond, fromAlice("")); err == nil {
		t.Errorf("romeo, unsubscribed, still got %+v", e)
	}
	t.Logf("XMPP -> SIP done after %v", time.Since(start).Round(time.Millisecond))

	// SIP -> XMPP: the nurse approves (slixmpp's default), then alice
	// unsubscribes; juliet refuses.
	nurse := alice.mustSubscribe("sip:nurse@xmpp.test", "presence", 600)
	xu["nurse"].mustWait("alice's subscribe", 10*time.Second, fromAlice("subscribe"))
	if _, err := nurse.waitFor("nurse online", 10*time.Second, func(m *sipMsg) bool { return strings.Contains(m.Body, "<basic>open</basic>") }); err != nil {
		t.Fatal(err)
	}
	if _, err := nurse.refresh(0); err != nil {
		t.Fatal(err)
	}
	xu["nurse"].mustWait("alice's unsubscribe", 10*time.Second, fromAlice("unsubscribe"))

	jul := alice.mustSubscribe("sip:juliet@xmpp.test", "presence", 600)
	xu["juliet"].mustWait("alice's subscribe", 10*time.Second, fromAlice("subscribe"))
	xu["juliet"].cmd(map[string]string{"cmd": "unsubscribed", "to": "alice@" + domain})
	if m, err := jul.waitFor("juliet's presence", 1500*time.Millisecond, func(m *sipMsg) bool { return strings.Contains(m.Body, "<basic>open</basic>") }); err == nil {
		t.Errorf("juliet refused alice, but alice sees her:\n%s", m.Raw)
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}
