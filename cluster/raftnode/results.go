package raftnode

import (
	"context"
	"fmt"
	"sync"
)

// resultRing is how many recent apply results a node keeps, so a write
// forwarded to the leader can return the result of its own local apply.
const resultRing = 8192

// results records what the local FSM returned for recent log indexes and
// lets writers wait until an index is applied here.
type results struct {
	mu      sync.Mutex
	applied uint64
	ring    [resultRing]struct {
		idx uint64
		res any
	}
	wake chan struct{} // closed and replaced whenever applied moves
}

func newResults() *results { return &results{wake: make(chan struct{})} }

// record notes the result of the command at idx.
func (r *results) record(idx uint64, res any) {
	slot := &r.ring[idx%resultRing]
	slot.idx, slot.res = idx, res
}

// advance moves the applied mark and wakes waiters; the caller holds mu.
func (r *results) advance(idx uint64) {
	if idx > r.applied {
		r.applied = idx
	}
	close(r.wake)
	r.wake = make(chan struct{})
}

// batch records a batch of applied commands.
func (r *results) batch(idx []uint64, res []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var top uint64
	for i := range idx {
		r.record(idx[i], res[i])
		top = max(top, idx[i])
	}
	r.advance(top)
}

// restored moves the mark to a snapshot's last index; results of the
// entries it covers are unknown here.
func (r *results) restored(idx uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(idx)
}

// wait blocks until idx is applied here and returns its result; known is
// false when it was applied through a snapshot (or long ago).
func (r *results) wait(ctx context.Context, idx uint64, done <-chan struct{}) (res any, known bool, err error) {
	for {
		r.mu.Lock()
		if r.applied >= idx {
			slot := r.ring[idx%resultRing]
			r.mu.Unlock()
			if slot.idx == idx {
				return slot.res, true, nil
			}
			return nil, false, nil
		}
		wake := r.wake
		r.mu.Unlock()
		select {
		case <-wake:
		case <-done:
			return nil, false, ErrClosed
		case <-ctx.Done():
			return nil, false, fmt.Errorf("raftnode: committed at index %d but not yet applied here: %w", idx, ctx.Err())
		}
	}
}
