// Package testport hands out loopback ports for tests and benchmarks that
// start servers on fixed ports (parleyd, sipp, Kamailio, baresip).
//
// Ports come from below the kernel's ephemeral range, so no outgoing
// connection of any process can take a port between the moment it is
// probed and the moment the server binds it, or while a test restarts a
// server on the same port. Within one process a port is handed out once;
// across processes (go test runs packages in parallel) the random choice
// over some ten thousand ports makes a clash unlikely, and each port is
// probed free for TCP and UDP before it is handed out.
package testport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// ErrNoPorts is returned when no free ports were found.
var ErrNoPorts = errors.New("testport: no free loopback ports")

var (
	mu        sync.Mutex
	handedOut = map[int]bool{}
)

// Free returns n loopback ports; each of port..port+span-1 was free for
// both TCP and UDP on 127.0.0.1 when probed (span 2 suits baresip, which
// also takes port+1 for TLS).
func Free(n, span int) ([]int, error) {
	if span < 1 {
		span = 1
	}
	lo, hi := pickRange()
	mu.Lock()
	defer mu.Unlock()
	var out []int
	for tries := 0; len(out) < n; tries++ {
		if tries >= 500 {
			return nil, fmt.Errorf("%w: %d of %d (span %d) after %d tries", ErrNoPorts, len(out), n, span, tries)
		}
		base := lo + rand.IntN(hi-lo-span)
		ok := true
		for i := 0; i < span && ok; i++ {
			ok = !handedOut[base+i] && probe(base+i) == nil
		}
		if !ok {
			continue
		}
		for i := 0; i < span; i++ {
			handedOut[base+i] = true
		}
		out = append(out, base)
	}
	return out, nil
}

// Release gives back ports handed out by Free with the same span, once
// whatever used them is gone (a test's Cleanup): a long suite otherwise
// fills the range with spans it no longer uses (100-port spans for media
// run out after a few dozen tests). Free probes a port again before it
// hands it out.
func Release(ports []int, span int) {
	if span < 1 {
		span = 1
	}
	mu.Lock()
	defer mu.Unlock()
	for _, base := range ports {
		for i := 0; i < span; i++ {
			delete(handedOut, base+i)
		}
	}
}

// pickRange is [lo, hi): the ten thousand ports below the ephemeral range
// (20000-30000 with Linux's default 32768-60999).
func pickRange() (int, int) {
	hi := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > 12000 {
				hi = v
			}
		}
	}
	hi -= 2000 // keep clear of the range's edge
	return hi - 10000, hi
}

// probe binds TCP then UDP on port and closes both.
func probe(port int) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	return u.Close()
}
