package node

import (
	"strings"
	"testing"

	"github.com/parley-rtc/parley/core/auth"
)

// TestStatelessChallenge: requests without credentials over UDP are
// challenged on the listener's read loop (no transaction): a
// retransmission gets the same challenge byte for byte (sipp aborts on a
// second, different 401), the answer is accepted, and MESSAGE gets 407 as
// before; INVITE still goes through its transaction.
func TestStatelessChallenge(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "secret")
	f := newBenchFlow(t, n.sip)
	reg := f.sipRequest("REGISTER", "sip:localhost", "alice", "alice", "sl-1", 1,
		"Contact: <sip:alice@"+f.local+">\r\nExpires: 600\r\n", "")
	var first string
	for i := 0; i < 3; i++ { // then two retransmissions (same branch)
		res, err := f.request(reg)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			if res != first {
				t.Fatalf("retransmission challenged with\n%s\nwant\n%s", res, first)
			}
			continue
		}
		first = res
		if !strings.HasPrefix(res, "SIP/2.0 401 ") {
			t.Fatalf("REGISTER without credentials: %q", firstLine(res))
		}
		if _, ok := headerOf(res, "WWW-Authenticate"); !ok {
			t.Fatalf("401 without WWW-Authenticate:\n%s", res)
		}
		if to, _ := headerOf(res, "To"); !strings.Contains(to, ";tag=") {
			t.Fatalf("401 without a To tag: %q", to)
		}
		if v, _ := headerOf(res, "Via"); !strings.Contains(v, "branch=z9hG4bK-b1-sl-1") {
			t.Fatalf("401 Via %q", v)
		}
	}
	if err := f.register("alice", "sl-2", true); err != nil {
		t.Fatal(err)
	}
	msg := f.sipRequest("MESSAGE", "sip:bob@localhost", "alice", "bob", "sl-3", 1, "", "hi")
	res, err := f.request(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res, "SIP/2.0 407 ") {
		t.Fatalf("MESSAGE without credentials: %q", firstLine(res))
	}
	inv := f.sipRequest("INVITE", "sip:bob@localhost", "alice", "bob", "sl-4", 1, "", "")
	if res, err = f.request(inv); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res, "SIP/2.0 407 ") {
		t.Fatalf("INVITE without credentials: %q", firstLine(res))
	}
}

// TestRetransmissionAfterFinalResponse: a UDP REGISTER retransmitted after
// its 200 gets the same 200, byte for byte, and is not registered again
// (that would be a 500 for the repeated CSeq, or a 401 for the replayed
// nonce count); the transaction ended with the 200 and the retransmission
// is answered from the recorded response.
func TestRetransmissionAfterFinalResponse(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "secret")
	f := newBenchFlow(t, n.sip)
	contact := "Contact: <sip:alice@" + f.local + ">\r\nExpires: 600\r\n"
	res, err := f.request(f.sipRequest("REGISTER", "sip:localhost", "alice", "alice", "rt-1", 1, contact, ""))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := headerOf(res, "WWW-Authenticate")
	cred, err := auth.Answer(ch, "REGISTER", "sip:localhost", "alice", "secret")
	if err != nil {
		t.Fatal(err)
	}
	reg := f.sipRequest("REGISTER", "sip:localhost", "alice", "alice", "rt-1", 2, contact+"Authorization: "+cred+"\r\n", "")
	first, err := f.request(reg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first, "SIP/2.0 200 ") {
		t.Fatalf("REGISTER: %q", firstLine(first))
	}
	for i := 0; i < 3; i++ {
		again, err := f.request(reg)
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Fatalf("retransmission %d answered\n%s\nwant\n%s", i+1, again, first)
		}
	}
	// The read loop's quick look leaves a lower-case method to sipgo (which
	// upper-cases it); the pipeline still finds the recorded response.
	again, err := f.request("register" + strings.TrimPrefix(reg, "REGISTER"))
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatalf("retransmission through the parser answered\n%s\nwant\n%s", again, first)
	}
}
