package node

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestDirectRegisterRoutesFromListener: a REGISTER over UDP is served on
// the direct path (no sipgo transaction), yet requests to the registered
// contact still leave from the listener's socket, the address the
// user's NAT opened: bob's socket is connected to the listener and
// drops datagrams from any other address.
func TestDirectRegisterRoutesFromListener(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "secret")
	n.addUser(t, "bob", "secret")
	bob := newBenchFlow(t, n.sip)
	if err := bob.register("bob", "dr-1", true); err != nil {
		t.Fatal(err)
	}
	alice := newBenchFlow(t, n.sip)
	errc := make(chan error, 1)
	go func() { errc <- alice.message("alice", "bob", "dr-2") }()
	var req *sip.Request
	for req == nil {
		_ = bob.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		nr, err := bob.c.Read(bob.buf)
		if err != nil {
			t.Fatalf("bob got nothing from the listener's address: %v", err)
		}
		msg, err := sip.NewParser().ParseSIP(append([]byte(nil), bob.buf[:nr]...))
		if err != nil {
			t.Fatalf("bob got garbage: %v", err)
		}
		if r, ok := msg.(*sip.Request); ok && r.Method == sip.MESSAGE {
			req = r
		}
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if _, err := bob.c.Write([]byte(res.String())); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("alice's MESSAGE got no answer")
	}
	if got := string(req.Body()); !strings.Contains(got, "bench message") {
		t.Fatalf("bob got body %q", got)
	}
}
