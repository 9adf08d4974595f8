package node

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/auth"
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

// TestDirectCancelOfNonInvite: a CANCEL for a MESSAGE still being served
// on the direct path gets 200 and changes nothing (RFC 3261 9.2); the
// MESSAGE's answer still comes through, and a retransmitted CANCEL gets
// the same 200. A CANCEL matching nothing: 481.
func TestDirectCancelOfNonInvite(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "secret")
	n.addUser(t, "bob", "secret")
	bob := newBenchFlow(t, n.sip)
	if err := bob.register("bob", "dc-1", true); err != nil {
		t.Fatal(err)
	}
	alice := newBenchFlow(t, n.sip)
	res, err := alice.request(alice.sipRequest("MESSAGE", "sip:bob@localhost", "alice", "bob", "dc-2", 1, "", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := headerOf(res, "Proxy-Authenticate")
	cred, err := auth.Answer(ch, "MESSAGE", "sip:bob@localhost", "alice", "secret")
	if err != nil {
		t.Fatal(err)
	}
	msg := alice.sipRequest("MESSAGE", "sip:bob@localhost", "alice", "bob", "dc-2", 2, "Proxy-Authorization: "+cred+"\r\n", "hi")
	if _, err := alice.c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	// bob holds the MESSAGE: it stays in flight.
	_ = bob.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	nr, err := bob.c.Read(bob.buf)
	if err != nil {
		t.Fatalf("bob got nothing: %v", err)
	}
	held, err := sip.NewParser().ParseSIP(append([]byte(nil), bob.buf[:nr]...))
	if err != nil {
		t.Fatal(err)
	}
	cancel := func(m string) string {
		head, _, _ := strings.Cut(m, "\r\n\r\n")
		var out []string
		for i, line := range strings.Split(head, "\r\n") {
			switch {
			case i == 0:
				line = "CANCEL" + strings.TrimPrefix(line, "MESSAGE")
			case strings.HasPrefix(line, "CSeq:"):
				line = "CSeq: 2 CANCEL"
			case strings.HasPrefix(line, "Content-Length:"):
				line = "Content-Length: 0"
			case strings.HasPrefix(line, "Proxy-Authorization:"), strings.HasPrefix(line, "Content-Type:"):
				continue
			}
			out = append(out, line)
		}
		return strings.Join(out, "\r\n") + "\r\n\r\n"
	}
	got, err := alice.request(cancel(msg))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "SIP/2.0 200 ") || !strings.Contains(got, "CSeq: 2 CANCEL") {
		t.Fatalf("CANCEL of a MESSAGE in flight: %q", firstLine(got))
	}
	// The MESSAGE goes on: bob's 200 reaches alice.
	if _, err := bob.c.Write([]byte(sip.NewResponseFromRequest(held.(*sip.Request), 200, "OK", nil).String())); err != nil {
		t.Fatal(err)
	}
	_ = alice.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	nr, err = alice.c.Read(alice.buf)
	if err != nil || !strings.HasPrefix(string(alice.buf[:nr]), "SIP/2.0 200 ") || !strings.Contains(string(alice.buf[:nr]), "MESSAGE") {
		t.Fatalf("MESSAGE answer after the CANCEL: %q, %v", firstLine(string(alice.buf[:nr])), err)
	}
	// The CANCEL again is a retransmission: the same 200.
	if again, err := alice.request(cancel(msg)); err != nil || again != got {
		t.Fatalf("retransmitted CANCEL: %q, %v", again, err)
	}
	// A CANCEL matching no request: 481.
	other := strings.Replace(cancel(msg), "branch=z9hG4bK-", "branch=z9hG4bK-none-", 1)
	if got, err = alice.request(other); err != nil || !strings.HasPrefix(got, "SIP/2.0 481 ") {
		t.Fatalf("CANCEL matching nothing: %q, %v", firstLine(got), err)
	}
}
