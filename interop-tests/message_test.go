//go:build interop

package interop

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startRegisteredUAS starts a sipp UAS scenario (uas_*.xml) for user that
// first registers with a digest, and waits until parleyd shows its binding.
func startRegisteredUAS(t *testing.T, p *parleyd, scenario, user, callID string) *sippProc {
	t.Helper()
	port := freePort(t)
	uas := startSipp(t, p.sipAddr(), sipp{Name: user, Scenario: scenario, User: user, Password: "secret",
		LocalPort: port, CallID: callID, Timeout: 30 * time.Second})
	deadline := time.Now().Add(10 * time.Second)
	for {
		has, _, err := p.hasBinding(user, port)
		if err == nil && has {
			return uas
		}
		if uas.exited() {
			t.Fatalf("%s's sipp exited before registering: %v", user, uas.wait())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not registered after 10s (err %v); sipp so far:\n%s", user, err, tailFile(uas.msgLog, 8<<10))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// uniqueCallID gives a -cid_str shared by two sipps of one test: sipp only
// hands a request to a running call with the same Call-ID.
func uniqueCallID(t *testing.T) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("%s-%%u-%d@parley-interop", name, time.Now().UnixNano())
}

// TestMessageRelay: bob registers then waits for a MESSAGE; alice's MESSAGE
// gets 407, is resent with credentials and bob's 200 comes back.
func TestMessageRelay(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	cid := uniqueCallID(t)
	bob := startRegisteredUAS(t, p, "uas_message.xml", "bob", cid)
	if _, err := runSipp(t, p.sipAddr(), sipp{Name: "alice", Scenario: "uac_message.xml", User: "alice",
		Password: "secret", Service: "bob", CallID: cid}); err != nil {
		t.Fatal(err)
	}
	if err := bob.wait(); err != nil {
		t.Fatal(err)
	}
}

// TestNotFoundAndUnavailable: after the 407 round, a MESSAGE to an unknown
// user gets 404 and to a known but unregistered one 202 (stored for her
// next registration, core/offline).
func TestNotFoundAndUnavailable(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("carol", "secret")
	for _, tc := range []struct{ target, want string }{{"nobody", "404"}, {"carol", "202"}} {
		run, err := runSipp(t, p.sipAddr(), sipp{Name: "to-" + tc.target, Scenario: "uac_message_rejected.xml",
			User: "alice", Password: "secret", Service: tc.target})
		if err != nil {
			t.Fatal(err)
		}
		final := regexp.MustCompile(`(?m)^SIP/2\.0 ([24][0-9][0-9]) `).FindAllStringSubmatch(run.messages(), -1)
		if len(final) == 0 || final[len(final)-1][1] != tc.want {
			t.Errorf("MESSAGE to %s: responses %v, want last %s", tc.target, final, tc.want)
		}
	}
}

// TestInviteThroughProxy: alice calls bob through parleyd: 407, INVITE with
// credentials, 200 with the proxy's Record-Route, ACK and BYE along the
// route set (bob's scenario waits for both).
func TestInviteThroughProxy(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	cid := uniqueCallID(t)
	bob := startRegisteredUAS(t, p, "uas_invite.xml", "bob", cid)
	alice, err := runSipp(t, p.sipAddr(), sipp{Name: "alice", Scenario: "uac_invite.xml", User: "alice",
		Password: "secret", Service: "bob", CallID: cid})
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.wait(); err != nil {
		t.Fatal(err)
	}
	msgs := alice.messages()
	rr := regexp.MustCompile(`(?mi)^Record-Route:.*$`).FindString(msgs)
	if !strings.Contains(rr, fmt.Sprintf(":%d", p.sipPort)) || !strings.Contains(rr, ";lr") {
		t.Errorf("Record-Route seen by alice = %q, want parleyd's address 127.0.0.1:%d with ;lr", rr, p.sipPort)
	}
	for _, m := range []string{"ACK sip:bob@", "BYE sip:bob@"} {
		if !strings.Contains(bob.messages(), m) {
			t.Errorf("bob never received %q", m)
		}
	}
}
