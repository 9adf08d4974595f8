//go:build interop

package interop

import (
	"fmt"
	"net"
	"sync"
	"testing"
)

// handedOut remembers every port given to this test binary, so that two
// helpers never get the same one even after its probe sockets are closed.
var (
	portsMu   sync.Mutex
	handedOut = map[int]bool{}
)

// freePorts returns n loopback ports; each of port..port+span-1 was free for
// both UDP and TCP on 127.0.0.1 when probed (span 2 suits baresip, which
// also takes port+1 for TLS). The probe sockets are closed before returning.
func freePorts(t testing.TB, n, span int) []int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	var out []int
	for tries := 0; len(out) < n; tries++ {
		if tries >= 200 {
			t.Fatalf("no %d free loopback ports (span %d) after %d tries", n, span, tries)
		}
		base, err := probe(0)
		if err != nil {
			continue
		}
		ok := true
		for i := 0; i < span && ok; i++ {
			if handedOut[base+i] {
				ok = false
				continue
			}
			if i > 0 {
				_, err := probe(base + i)
				ok = err == nil
			}
		}
		if !ok {
			continue
		}
		for i := 0; i < span; i++ {
			handedOut[base+i] = true
		}
		out = append(out, base)
	}
	return out
}

// freePort is freePorts(t, 1, 1)[0].
func freePort(t testing.TB) int { return freePorts(t, 1, 1)[0] }

// probe binds TCP (port 0 = any) then UDP on the same number, and closes both.
func probe(port int) (int, error) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	port = l.Addr().(*net.TCPAddr).Port
	if port >= 65535 {
		return 0, fmt.Errorf("port %d at the top of the range", port)
	}
	u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return 0, err
	}
	u.Close()
	return port, nil
}
