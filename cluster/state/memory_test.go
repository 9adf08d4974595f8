package state

import (
	"fmt"
	"runtime"
	"testing"
)

// heapPerBinding applies n REGISTER-like binding updates (one AOR each,
// as in the benchmark's fresh users) and returns the retained heap per
// binding, counting the users map the bindings hang off as well.
func heapPerBinding(tb testing.TB, n int) float64 {
	tb.Helper()
	s := New()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		aor := fmt.Sprintf("user%06d@localhost", i)
		b := Binding{
			Contact: fmt.Sprintf("sip:user%06d@127.0.0.1:%d", i, 10000+i%50000), CallID: fmt.Sprintf("%d-31337@127.0.0.1", i),
			CSeq: 2, Q: 1000, Expires: 1_800_000_000, Transport: "UDP", Source: fmt.Sprintf("127.0.0.1:%d", 10000+i%50000),
			Local: "127.0.0.1:5060", Home: "n1", UserAgent: "sipp-parley-bench",
		}
		c, err := NewCommand(CmdBindingUpdate, BindingUpdate{AOR: aor, Upsert: []Binding{b}})
		if err != nil {
			tb.Fatal(err)
		}
		c.ReqID, c.Time = fmt.Sprintf("req-%d", i), int64(i)
		data, _ := c.Encode()
		s.Apply(uint64(i+1), data)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestBindingMemoryBudget holds the line on the 1 KiB per binding budget.
// The dedup window's fixed cost is included and amortised over n.
func TestBindingMemoryBudget(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocates 100k bindings; the race detector distorts heap sizes")
	}
	per := heapPerBinding(t, 100_000)
	t.Logf("heap per binding: %.0f bytes", per)
	if per > 1024 {
		t.Fatalf("heap per binding %.0f bytes, budget 1024", per)
	}
}

func BenchmarkBindingMemory(b *testing.B) {
	per := heapPerBinding(b, 100_000)
	b.ReportMetric(per, "bytes/binding")
}
