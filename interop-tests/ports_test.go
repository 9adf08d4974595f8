//go:build interop

package interop

import (
	"testing"

	"github.com/parley-rtc/parley/internal/testport"
)

// freePorts returns n loopback ports below the ephemeral range; each of
// port..port+span-1 was free for both UDP and TCP on 127.0.0.1 when probed
// (span 2 suits baresip, which also takes port+1 for TLS).
func freePorts(t testing.TB, n, span int) []int {
	t.Helper()
	ps, err := testport.Free(n, span)
	if err != nil {
		t.Fatal(err)
	}
	// Back to the pool when the test is over: registered now, this runs
	// after the cleanups of whatever is started on them later.
	t.Cleanup(func() { testport.Release(ps, span) })
	return ps
}

// freePort is freePorts(t, 1, 1)[0].
func freePort(t testing.TB) int { return freePorts(t, 1, 1)[0] }
