package node

import (
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Process-wide settings. sipgo keeps its transaction timers, the largest
// message it sends over UDP and its read buffer size in package
// variables, read by every transaction and transport of the process
// without a lock. A node sets them from its configuration at the very
// start of Run, before it starts any goroutine, and only:
//
//   - when the value differs from the current one (parleyd's defaults
//     match sipgo's: with sip-timeout 32 s nothing is ever written), and
//   - while no other node runs in this process: one that does would be
//     reading them. A second node with a different sip-timeout is refused
//     (several nodes share a process only in tests).
//
// Each node waits for every goroutine it started before its Run returns
// (presence NOTIFYs included), so a node started after another stopped
// never writes under a reader the first one left behind.
var process struct {
	mu    sync.Mutex
	nodes int           // nodes running in this process
	t1    time.Duration // the T1 they run with
}

// useProcessSettings applies sipgo's settings for a node whose
// transaction lifetime is lifetime (64*T1, RFC 3261 17). Call release
// once the node's goroutines have all ended.
func useProcessSettings(lifetime time.Duration) (release func(), err error) {
	t1 := lifetime / 64
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.nodes > 0 && process.t1 != t1 {
		return nil, fmt.Errorf("node: sip-timeout %s differs from the %s of a node already running in this process (sipgo's transaction timers are process-wide)", lifetime, 64*process.t1)
	}
	if process.nodes == 0 {
		setTimers(t1)
		// Messages over 1300 bytes still go down a UDP flow, fragmented by
		// IP: a client registered over UDP (often behind NAT) cannot be
		// reached over a new TCP connection as RFC 3261 18.1.1 would have
		// it, and list NOTIFYs (RFC 4662) easily exceed that size.
		if sip.UDPMTUSize != udpMaxMessage+200 {
			sip.UDPMTUSize = udpMaxMessage + 200
		}
		// And receive what we send: sipgo reads UDP into 32 KiB by default.
		if sip.TransportBufferReadSize != 65535 {
			sip.TransportBufferReadSize = 65535
		}
	}
	process.nodes++
	process.t1 = t1
	var once sync.Once
	return func() {
		once.Do(func() {
			process.mu.Lock()
			process.nodes--
			process.mu.Unlock()
		})
	}, nil
}

// setTimers sets the timers that derive from T1 (A, B, E, F, G, H, J, L,
// M), each only when it changes. T2, T4 and timers D, I, K keep sipgo's
// values (4 s, 5 s, 32 s, T4, T4): writing them, even unchanged, would
// race with transactions that read T2 while they run.
func setTimers(t1 time.Duration) {
	if sip.T1 == t1 {
		return
	}
	sip.T1 = t1
	for _, v := range []*time.Duration{&sip.Timer_A, &sip.Timer_E, &sip.Timer_G} {
		*v = t1
	}
	for _, v := range []*time.Duration{&sip.Timer_B, &sip.Timer_F, &sip.Timer_H, &sip.Timer_J, &sip.Timer_L, &sip.Timer_M} {
		*v = 64 * t1
	}
}
