package node

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// expectOffline reads the n MESSAGEs carol gets, checks their order
// ("m1".."mn"), their Date headers, kept headers, and returns them.
func expectOffline(t *testing.T, carol *ua, n int) {
	t.Helper()
	var last time.Time
	for i := 1; i <= n; i++ {
		select {
		case req := <-carol.got:
			if want := fmt.Sprintf("m%d", i); string(req.Body()) != want {
				t.Fatalf("message %d: %q, want %q", i, req.Body(), want)
			}
			h := req.GetHeader("Date")
			if h == nil {
				t.Fatalf("message %d has no Date", i)
			}
			d, err := http.ParseTime(h.Value())
			if err != nil || d.Before(last) || time.Since(d) > time.Minute {
				t.Fatalf("message %d Date %q: %v", i, h.Value(), err)
			}
			last = d
			if ct := req.ContentType(); ct == nil || ct.Value() != "text/plain" {
				t.Fatalf("message %d Content-Type %v", i, ct)
			}
			if f := req.From(); f == nil || f.Address.User != "alice" {
				t.Fatalf("message %d From %v", i, f)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not delivered", i)
		}
	}
	select {
	case req := <-carol.got:
		t.Fatalf("extra message %q", req.Body())
	case <-time.After(300 * time.Millisecond):
	}
}

func sendOffline(t *testing.T, alice *ua, n *testNode, count int) {
	t.Helper()
	for i := 1; i <= count; i++ {
		if res := alice.messageBody(t, n, "alice", "carol", "wonder", fmt.Sprintf("m%d", i)); res.StatusCode != 202 {
			t.Fatalf("message %d to offline carol: %d %s", i, res.StatusCode, res.Reason)
		}
	}
}

func waitNoneStored(t *testing.T, ns ...*testNode) {
	t.Helper()
	for _, n := range ns {
		st := raftOf(t, n).State()
		for i := 0; st.OfflineCount("carol@localhost") != 0; i++ {
			if i > 100 {
				t.Fatalf("%s still stores %d", n.cfg.NodeID, st.OfflineCount("carol@localhost"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestNodeOfflineMessages: alice's three MESSAGEs to unregistered carol
// get 202; carol registers and gets them in order with Date headers; none
// is stored afterwards.
func TestNodeOfflineMessages(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "wonder")
	n.addUser(t, "carol", "singer")
	alice, carol := newUA(t, "alice"), newUA(t, "carol")
	sendOffline(t, alice, n, 3)
	if got := raftOf(t, n).State().OfflineCount("carol@localhost"); got != 3 {
		t.Fatalf("stored %d", got)
	}
	if res := carol.register(t, n, "carol", "singer"); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	expectOffline(t, carol, 3)
	waitNoneStored(t, n)
	// Registered now: the next one goes straight through.
	if res := alice.messageBody(t, n, "alice", "carol", "wonder", "live"); res.StatusCode != 200 {
		t.Fatalf("live message: %d", res.StatusCode)
	}
	if req := <-carol.got; string(req.Body()) != "live" || req.GetHeader("Date") != nil {
		t.Fatalf("live message: %q", req.Body())
	}
}

// TestClusterOfflineMessages: stored through n1, carol registers on n3:
// n3 delivers each once.
func TestClusterOfflineMessages(t *testing.T) {
	ns := startCluster(t, "home", "home", "home")
	addClusterUser(t, ns, "alice", "wonder")
	addClusterUser(t, ns, "carol", "singer")
	alice, carol := newUA(t, "alice"), newUA(t, "carol")
	sendOffline(t, alice, ns[0], 3)
	if res := carol.register(t, ns[2], "carol", "singer"); res.StatusCode != 200 {
		t.Fatalf("register on n3: %d", res.StatusCode)
	}
	expectOffline(t, carol, 3)
	waitNoneStored(t, ns...)
}
