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

// BenchmarkFailover measures, on a three-node cluster in this process,
// the time from stopping the leader (no leadership transfer: to the
// others it is a crash) to the first write committed through a survivor.
// Reported as ms/failover; run with -benchtime 1x.
func BenchmarkFailover(b *testing.B) {
	var total time.Duration
	for range b.N {
		c := newTestCluster(b)
		nodes := c.start(3)
		l := leaderOf(b, nodes)
		rest := others(nodes, l)
		survivor := rest[len(rest)-1]
		if err := putUser(context.Background(), survivor, "warm"); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		l.Close()
		for i := 0; ; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := putUser(ctx, survivor, fmt.Sprintf("after-%d", i))
			cancel()
			if err == nil {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("no write committed 30 s after the leader stopped: %v", err)
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/failover")
}

// BenchmarkCatchUp100k measures how long a new member of a three-node
// cluster holding 100,000 bindings (one per user, written by 64
// concurrent writers through all nodes, then snapshotted) takes until
// it is ready and holds every binding. Reported as s/catch-up.
func BenchmarkCatchUp100k(b *testing.B) {
	const bindings = 100_000
	var total time.Duration
	for range b.N {
		c := newTestCluster(b)
		c.defaultSnapshots = true
		nodes := c.start(3)
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := nodes[w%3]
				for {
					i := next.Add(1) - 1
					if i >= bindings {
						return
					}
					aor := fmt.Sprintf("u%d@localhost", i)
					bd := state.Binding{Contact: fmt.Sprintf("sip:u%d@192.0.2.1:%d", i, 1024+i%60000), CallID: aor, CSeq: 1,
						Q: 1000, Expires: time.Now().Add(time.Hour).Unix(), Transport: "UDP", Source: "192.0.2.1:5060", Home: n.cfg.NodeID}
					if _, err := n.Write(context.Background(), state.CmdBindingUpdate, state.BindingUpdate{AOR: aor, Upsert: []state.Binding{bd}}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		l := leaderOf(b, nodes)
		if err := l.raft.Snapshot().Error(); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		n4 := c.open("n4", false)
		if err := l.AddMember(context.Background(), "n4", n4.Addr(), true); err != nil {
			b.Fatal(err)
		}
		waitReady(b, n4)
		eventually(b, 5*time.Minute, func() error {
			if got := n4.State().BindingCount(); got != bindings {
				return fmt.Errorf("%d of %d bindings", got, bindings)
			}
			return nil
		})
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/catch-up")
}

// BenchmarkWriteBinding: concurrent new-binding writes, as REGISTERs make
// them, committed on one node with fsync, on each raft store. cpu-us/op
// is the CPU of the whole process per write.
func BenchmarkWriteBinding(b *testing.B) {
	for _, store := range []string{StoreWAL, StoreBolt} {
		b.Run("store="+store, func(b *testing.B) { benchWriteBinding(b, store) })
	}
}

func benchWriteBinding(b *testing.B, store string) {
	n := openOn(b, b.TempDir(), freeAddr(b), store)
	defer n.Close()
	eventually(b, 10*time.Second, func() error { // group commit on (group.go)
		if !n.batchOK.Load() {
			return fmt.Errorf("batches still off")
		}
		return nil
	})
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
