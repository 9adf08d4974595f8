package raftnode

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/parley-rtc/parley/cluster/state"
)

// kvInput is one operation on a binding register: a write replaces the
// AOR's single binding with one whose contact carries value; a read
// returns the contact's value ("" when none).
type kvInput struct {
	write bool
	key   string
	value string
}

var bindingModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(kvInput).key
			if _, ok := by[k]; !ok {
				keys = append(keys, k)
			}
			by[k] = append(by[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(st, in, out any) (bool, any) {
		i := in.(kvInput)
		if i.write {
			return true, i.value
		}
		return out.(string) == st.(string), st
	},
	DescribeOperation: func(in, out any) string {
		i := in.(kvInput)
		if i.write {
			return fmt.Sprintf("put(%s, %s)", i.key, i.value)
		}
		return fmt.Sprintf("get(%s) -> %v", i.key, out)
	},
}

// TestLinearizableBindings records binding writes and consistent reads
// from clients on all three nodes while leadership moves around, and
// checks the history with porcupine.
func TestLinearizableBindings(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	c := newTestCluster(t)
	nodes := c.start(3)
	const (
		clients   = 12
		opsEach   = 250
		keys      = 40
		transfers = 200 * time.Millisecond
	)
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		seq     atomic.Int64
		failed  atomic.Int64
	)
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	stop := make(chan struct{})
	var moves atomic.Int64
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(transfers):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			if nodes[i%3].TransferLeadership(ctx, "") == nil {
				moves.Add(1)
			}
			cancel()
		}
	}()
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := nodes[cl%3]
			rng := rand.New(rand.NewPCG(uint64(cl), 7))
			for range opsEach {
				key := fmt.Sprintf("k%02d@localhost", rng.IntN(keys))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				op := porcupine.Operation{ClientId: cl, Call: now()}
				if rng.IntN(2) == 0 {
					v := fmt.Sprint(seq.Add(1))
					op.Input = kvInput{write: true, key: key, value: v}
					b := state.Binding{Instance: "urn:uuid:lin", Contact: "sip:" + v + "@x", CallID: "w" + v, CSeq: 1}
					_, err := n.Write(ctx, state.CmdBindingUpdate, state.BindingUpdate{AOR: key, Upsert: []state.Binding{b}})
					op.Return = now()
					if err != nil {
						op.Return = math.MaxInt64 // unknown outcome: may commit later
						failed.Add(1)
					}
				} else {
					op.Input = kvInput{key: key}
					if err := n.ReadConsistent(ctx); err != nil {
						cancel()
						failed.Add(1)
						continue // a failed read has no effect
					}
					v := ""
					if bs := n.State().Bindings(key); len(bs) > 0 {
						v = strings.TrimSuffix(strings.TrimPrefix(bs[0].Contact, "sip:"), "@x")
					}
					op.Output, op.Return = v, now()
				}
				cancel()
				mu.Lock()
				history = append(history, op)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	t.Logf("%d operations (%d failed) in %v with %d leadership transfers", len(history), failed.Load(),
		time.Since(start).Round(time.Millisecond), moves.Load())
	if moves.Load() < 2 {
		t.Fatalf("only %d leadership transfers happened", moves.Load())
	}
	if len(history) < clients*opsEach/2 {
		t.Fatalf("only %d of %d operations completed", len(history), clients*opsEach)
	}
	res := porcupine.CheckOperationsTimeout(bindingModel, history, time.Minute)
	if res != porcupine.Ok {
		t.Fatalf("history is not linearizable: %v", res)
	}
}
