package node

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/config"
)

// A REGISTER over UDP is answered from its write's completion, after the
// worker that handled it moved on (the direct path holds the transaction
// open meanwhile). Its retransmissions, sent at once and later, get the
// same 200 and no second write; a second REGISTER from the same flow,
// with max-tx-per-conn 1, is served once the first one's slot is free.
func TestRegisterRetransmissionsWhileCommitting(t *testing.T) {
	trusted := freePort(t)
	n := startNodeWith(t, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, fmt.Sprintf("udp://127.0.0.1:%d?trust=trusted", trusted))
		c.FloodRate = 0
		c.MaxTxPerConn = 1
		c.XCAPListen = ""
	})
	n.addUser(t, "held", "pw")
	f := newBenchFlow(t, fmt.Sprintf("127.0.0.1:%d", trusted))
	st := raftOf(t, n).State()
	var mu sync.Mutex
	writes := 0 // binding writes for the user
	st.Observe(func(ch []state.Change) {
		for _, c := range ch {
			if c.Kind == state.BindingsChanged && c.AOR == "held@localhost" {
				mu.Lock()
				writes++
				mu.Unlock()
			}
		}
	})
	msg := f.sipRequest("REGISTER", "sip:localhost", "held", "held", "hold-1", 1,
		fmt.Sprintf("Contact: <sip:held@%s>\r\nExpires: 3600\r\n", f.local), "")
	for range 3 { // the request and two retransmissions at once
		if _, err := f.c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	var answers []string
	read := func(wait time.Duration) {
		for {
			_ = f.c.SetReadDeadline(time.Now().Add(wait))
			k, err := f.c.Read(f.buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return
				}
				t.Fatal(err)
			}
			answers = append(answers, string(f.buf[:k]))
		}
	}
	read(time.Second)
	if _, err := f.c.Write([]byte(msg)); err != nil { // a late retransmission
		t.Fatal(err)
	}
	read(500 * time.Millisecond)
	if len(answers) < 2 {
		t.Fatalf("%d answers to the request and its late retransmission", len(answers))
	}
	for _, a := range answers {
		if a != answers[0] || !strings.HasPrefix(a, "SIP/2.0 200 ") {
			t.Fatalf("answers differ or fail:\n%s\n---\n%s", answers[0], a)
		}
	}
	mu.Lock()
	if writes != 1 {
		t.Fatalf("%d binding writes for one REGISTER and its retransmissions", writes)
	}
	mu.Unlock()
	if b := st.Bindings("held@localhost"); len(b) != 1 {
		t.Fatalf("bindings %v", b)
	}
	// The slot the first REGISTER held is free again.
	if err := f.register("held", "hold-2", false); err != nil {
		t.Fatal(err)
	}
}
