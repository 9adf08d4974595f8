package node

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
)

// TestNodeLeavesNoGoroutines: when Run returns, every goroutine the node
// started has ended, including a presence NOTIFY still in flight to a
// watcher that never answers. (A NOTIFY outliving its node used to race
// with the next node's sipgo timer settings.)
func TestNodeLeavesNoGoroutines(t *testing.T) {
	before := parleyGoroutines()
	n := startNode(t)
	n.addUser(t, "alice", "pw-alice")
	n.addUser(t, "bob", "pw-bob")
	bob := newUA(t, "bob")
	bob.mute.Store(true) // never answers a NOTIFY
	if res := bob.subscribe(t, n, "bob", "pw-bob", "alice", "presence"); res.StatusCode != 200 {
		t.Fatalf("subscribe: %d", res.StatusCode)
	}
	bob.nextNotify(t, "")
	n.stop(t) // the NOTIFY's transaction is still retransmitting
	if left := newGoroutines(before); left != "" {
		t.Fatalf("goroutines left after Run returned:\n%s", left)
	}
}

// TestNodeProcessSettings: sipgo's timers are process-wide, so a node
// whose sip-timeout differs from one already running in the process is
// refused, and one started after the others stopped applies its own.
func TestNodeProcessSettings(t *testing.T) {
	n := startNode(t)
	other := buildNode(t, func(c *config.Config) { c.SIPTimeout = 4 * time.Second })
	if err := Run(t.Context(), other.cfg, other.log); err == nil || !strings.Contains(err.Error(), "sip-timeout") {
		t.Fatalf("second node with another sip-timeout: %v", err)
	}
	n.stop(t)
	other.start(t)
	if sip.Timer_F != 4*time.Second || sip.T1 != 4*time.Second/64 {
		t.Errorf("timer F %s, T1 %s after a node with sip-timeout 4s started", sip.Timer_F, sip.T1)
	}
	other.stop(t)
	startNode(t).stop(t) // the default again
	if sip.Timer_F != 32*time.Second || sip.T2 != 4*time.Second {
		t.Errorf("timer F %s, T2 %s with the default sip-timeout", sip.Timer_F, sip.T2)
	}
}

// parleyGoroutines returns the stacks of the goroutines running our
// (non-test) code, by goroutine id.
func parleyGoroutines() map[string]string {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	out := make(map[string]string)
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "github.com/parley-rtc/parley/") || strings.Contains(g, "_test.go") {
			continue
		}
		if f := strings.Fields(g); len(f) > 1 {
			out[f[1]] = g
		}
	}
	return out
}

// newGoroutines returns the stacks of parleyGoroutines not in before.
func newGoroutines(before map[string]string) string {
	var b strings.Builder
	for id, g := range parleyGoroutines() {
		if _, ok := before[id]; !ok {
			fmt.Fprintf(&b, "%s\n\n", g)
		}
	}
	return b.String()
}
