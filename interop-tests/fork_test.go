//go:build interop

package interop

import (
	"strings"
	"testing"
	"time"
)

// TestForkInviteSipp: bob has two endpoints (two sipp UAS registered from
// their own ports); alice's INVITE rings both (each sends 180), the one
// that answers after a second gets the call (its ACK and BYE through the
// proxy), and the other gets CANCEL (its scenario passes only if a CANCEL
// comes, which it answers 200 and 487, and the 487 is ACKed).
func TestForkInviteSipp(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	cid := uniqueCallID(t)
	ringer := startRegisteredUAS(t, p, "fork_uas_ring.xml", "bob", cid)
	answerer := startRegisteredUAS(t, p, "fork_uas_answer.xml", "bob", cid)
	alice, err := runSipp(t, p.sipAddr(), sipp{Name: "alice", Scenario: "fork_uac_invite.xml", User: "alice",
		Password: "secret", CallID: cid, Keys: map[string]string{"ruri": "sip:bob@" + domain}, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := answerer.wait(); err != nil {
		t.Fatalf("the answering endpoint: %v", err)
	}
	if err := ringer.wait(); err != nil {
		t.Fatalf("the ringing endpoint was not cancelled: %v", err)
	}
	msgs := alice.messages()
	if n := strings.Count(msgs, "SIP/2.0 180"); n < 2 {
		t.Errorf("alice saw %d 180s, want one from each endpoint", n)
	}
	for _, m := range []string{"ACK sip:bob@", "BYE sip:bob@"} {
		if !strings.Contains(answerer.messages(), m) {
			t.Errorf("the answering endpoint never received %q", m)
		}
	}
	// The cancelled endpoint's only ACK is the one for its 487; it never
	// gets the call's BYE.
	if strings.Contains(ringer.messages(), "BYE sip:bob@") {
		t.Error("the cancelled endpoint received the call's BYE")
	}
	if !strings.Contains(ringer.messages(), "CANCEL sip:bob@") {
		t.Error("the ringing endpoint's trace shows no CANCEL")
	}
}
