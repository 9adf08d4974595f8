package testport

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeHandsOutDistinctFreePorts(t *testing.T) {
	ports, err := Free(20, 2)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := pickRange()
	seen := map[int]bool{}
	for _, p := range ports {
		if p < lo || p+1 >= hi {
			t.Fatalf("port %d outside [%d,%d)", p, lo, hi)
		}
		for _, q := range []int{p, p + 1} {
			if seen[q] {
				t.Fatalf("port %d handed out twice", q)
			}
			seen[q] = true
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d not free: %v", p, err)
		}
		l.Close()
	}
}

func TestFreeSkipsBusyPorts(t *testing.T) {
	lo, hi := pickRange()
	// Occupy a few ports of the range; none of them may be handed out.
	var busy []net.Listener
	for p := lo; p < lo+50 && p < hi; p++ {
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			busy = append(busy, l)
		}
	}
	defer func() {
		for _, l := range busy {
			l.Close()
		}
	}()
	ports, err := Free(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		for _, l := range busy {
			if l.Addr().(*net.TCPAddr).Port == p {
				t.Fatalf("busy port %d handed out", p)
			}
		}
	}
}

// TestReleaseRefills: a suite that takes 100-port spans runs out of the
// range unless spans come back; with Release it never does.
func TestReleaseRefills(t *testing.T) {
	lo, hi := pickRange()
	rounds := 3 * (hi - lo) / 100 // three times what the range holds
	for i := 0; i < rounds; i++ {
		ports, err := Free(1, 100)
		if err != nil {
			t.Fatalf("round %d of %d: %v", i, rounds, err)
		}
		Release(ports, 100)
	}
}
