package raftnode

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// BenchmarkWriteBinding: concurrent new-binding writes, as REGISTERs make
// them, committed on one node (bolt with fsync). cpu-us/op is the CPU of
// the whole process per write.
func BenchmarkWriteBinding(b *testing.B) {
	n := open(b, b.TempDir(), freeAddr(b))
	defer n.Close()
	const writers = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	b.ResetTimer()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				aor := fmt.Sprintf("user%d@localhost", i)
				up := state.BindingUpdate{AOR: aor, Upsert: []state.Binding{{Contact: "sip:" + aor, CallID: "c", CSeq: 1,
					Q: 1000, Expires: time.Now().Unix() + 3600, Transport: "UDP", Source: "127.0.0.1:40000",
					Local: "127.0.0.1:5060", Home: "n1"}}}
				if _, err := n.Write(context.Background(), state.CmdBindingUpdate, up); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
}
