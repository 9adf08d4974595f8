package raftnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/parley-rtc/parley/cluster/state"
)

// Group commit. On the leader, local writes do not go to raft one entry
// each: a loop takes every write that is waiting, puts them into one
// state.CmdBatch entry and hands it to raft, and while that entry is
// being made durable and applied, the next writes queue up for the next
// entry. Under load a REGISTER burst becomes a few entries a commit
// instead of one each, so raft's per-entry work (the future and its
// wake-up, the leader loop's dispatch, the log encoding, the FSM
// hand-off) is paid once per batch; an idle node sends a lone write at
// once, as it is. One entry is in flight at a time: it is what makes the
// batches (the writes that arrive during one commit form the next), and
// raft's log store writes one batch at a time anyway.
//
// Batches are written only while every member publishes a log version
// that knows CmdBatch (state.LogVersion); otherwise the waiting writes go
// to raft one entry each, as before.
const (
	maxGroup      = 512     // commands per entry, like MaxAppendEntries
	maxGroupBytes = 4 << 20 // and bytes
	groupQueue    = 4096    // writes waiting; when full, Write waits and WriteAsync gets ErrBusy
	// groupCheckEvery is how often the leader checks whether every
	// member can apply a batch.
	groupCheckEvery = time.Second
)

// groupReq is one local write waiting for the group commit: a writer
// waiting on done (Write), or an asynchronous one's callback (WriteAsync).
type groupReq struct {
	data     []byte
	deadline time.Time
	done     chan groupResult // buffered: the completer never blocks
	cb       func(any, error)
	cmd      state.Command // cb's command, for a retry at another leader
}

// finish hands r its result, exactly once.
func (r *groupReq) finish(n *Node, out groupResult) {
	if r.cb == nil {
		r.done <- out
		return
	}
	if out.err != nil && (errors.Is(out.err, ErrNotLeader) || errors.Is(out.err, ErrNoQuorum)) && time.Now().Before(r.deadline) {
		// Leadership moved while it waited: Submit retries it with
		// the same request id, wherever the leader now is.
		go n.submitAsync(r.cmd, r.deadline, r.cb)
		return
	}
	res, err := out.res, out.err
	if e, ok := res.(error); ok {
		res, err = nil, e
	} else if err != nil {
		err = fmt.Errorf("raftnode: write %s: %w", r.cmd.Type, err)
	}
	r.cb(res, err)
}

type groupResult struct {
	res any
	err error
}

// groupEntry is what the loop handed to raft: one batch entry, or one
// entry per write when batches are off.
type groupEntry struct {
	reqs    []*groupReq
	futures []raft.ApplyFuture // one, or one per request
}

// applyGrouped queues data for the group commit and waits for its apply
// result (the leader's; the caller checked it is the leader).
func (n *Node) applyGrouped(ctx context.Context, data []byte) (any, error) {
	dl, _ := ctx.Deadline()
	if time.Until(dl) <= 0 {
		return nil, context.DeadlineExceeded
	}
	r := &groupReq{data: data, deadline: dl, done: make(chan groupResult, 1)}
	if err := n.enqueueGroup(ctx, r, true); err != nil {
		return nil, err
	}
	select {
	case out := <-r.done:
		return out.res, out.err
	case <-ctx.Done():
		// It may still commit: commands are idempotent by request id.
		return nil, ctx.Err()
	case <-n.done:
		return nil, ErrClosed
	}
}

// ErrBusy: the group commit's queue is full, so an asynchronous write
// was not started. Answer it with 503 and Retry-After.
var ErrBusy = errors.New("raftnode: too many writes waiting")

// WriteAsync replicates a command as Write does, without waiting: done
// gets what Write would have returned, exactly once, also when the node
// closes (ErrClosed). On the leader done runs on the group commit's
// completer, after the command is applied here: it must be quick and must
// not wait for another write. Elsewhere (a follower, no leader yet) the
// write is forwarded and retried as Write does, on a goroutine of its
// own. deadline bounds it all. An error means the write was not started:
// ErrBusy when too many writes wait, ErrClosed, or a command that does
// not encode; done is not called then.
func (n *Node) WriteAsync(t state.CommandType, body any, deadline time.Time, done func(any, error)) error {
	select {
	case <-n.done:
		return ErrClosed
	default:
	}
	c, err := state.NewCommand(t, body)
	if err != nil {
		return err
	}
	n.stamp(&c)
	if n.raft.State() != raft.Leader {
		go n.submitAsync(c, deadline, done)
		return nil
	}
	data, err := c.Encode()
	if err != nil {
		return err
	}
	return n.enqueueGroup(context.Background(), &groupReq{data: data, deadline: deadline, cb: done, cmd: c}, false)
}

// enqueueGroup queues r for the group loop: waiting for room (Write) or
// refusing at once with ErrBusy (WriteAsync). Once the loop has stopped
// nothing more is queued (ErrClosed), so every queued request is finished
// by the loop or by its final drain.
func (n *Node) enqueueGroup(ctx context.Context, r *groupReq, wait bool) error {
	n.groupMu.RLock()
	defer n.groupMu.RUnlock()
	if n.groupShut {
		return ErrClosed
	}
	if !wait {
		select {
		case n.groupQ <- r:
			return nil
		default:
			return ErrBusy
		}
	}
	select {
	case n.groupQ <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.done:
		return ErrClosed
	}
}

// submitAsync runs c through Submit (forwarding and retries) and hands
// done the result.
func (n *Node) submitAsync(c state.Command, deadline time.Time, done func(any, error)) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	res, err := n.Submit(ctx, c)
	cancel()
	done(res, err)
}

// groupLoop builds the entries (see above).
func (n *Node) groupLoop() {
	entries := make(chan *groupEntry, 1)
	free := make(chan struct{}, 1) // the in-flight token
	free <- struct{}{}
	n.groupWG.Go(func() { n.groupComplete(entries, free) })
	defer func() {
		n.groupMu.Lock()
		n.groupShut = true
		n.groupMu.Unlock()
		n.drainGroup()
		close(entries) // the completer finishes what it holds, then stops
	}()
	var reqs []*groupReq
	for {
		select {
		case <-n.done:
			return
		case r := <-n.groupQ:
			reqs = append(reqs[:0], r)
		}
		select { // the previous entry is done: what queued meanwhile joins
		case <-n.done:
			for _, r := range reqs {
				r.finish(n, groupResult{err: ErrClosed})
			}
			return
		case <-free:
		}
		size := len(reqs[0].data)
	drain:
		for len(reqs) < maxGroup && size < maxGroupBytes {
			select {
			case r := <-n.groupQ:
				reqs = append(reqs, r)
				size += len(r.data)
			default:
				break drain
			}
		}
		e := n.submitGroup(reqs)
		if e == nil {
			free <- struct{}{}
			continue
		}
		entries <- e
		reqs = make([]*groupReq, 0, len(reqs))
	}
}

// submitGroup hands the live requests of reqs to raft; nil when none was
// left to submit (all had expired).
func (n *Node) submitGroup(reqs []*groupReq) *groupEntry {
	now := time.Now()
	live := reqs[:0]
	var first time.Time
	for _, r := range reqs {
		if !now.Before(r.deadline) {
			r.finish(n, groupResult{err: context.DeadlineExceeded})
			continue
		}
		if first.IsZero() || r.deadline.Before(first) {
			first = r.deadline
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return nil
	}
	timeout := first.Sub(now)
	e := &groupEntry{reqs: live}
	if len(live) == 1 || !n.batchOK.Load() {
		e.futures = make([]raft.ApplyFuture, len(live))
		for i, r := range live {
			e.futures[i] = n.raft.Apply(r.data, timeout)
		}
		return e
	}
	cmds := make([][]byte, len(live))
	for i, r := range live {
		cmds[i] = r.data
	}
	e.futures = []raft.ApplyFuture{n.raft.Apply(state.EncodeBatch(cmds), timeout)}
	return e
}

// groupComplete waits for each entry, in order, gives the in-flight
// token back (so the next entry goes to raft) and then tells every writer
// its result. It stops when the loop has stopped and closed entries;
// Close waits for that before it stops raft, so every future it waits for
// is answered.
func (n *Node) groupComplete(entries <-chan *groupEntry, free chan<- struct{}) {
	for e := range entries {
		if len(e.futures) == 1 && len(e.reqs) > 1 {
			out := futureResult(e.futures[0])
			free <- struct{}{}
			n.deliverBatch(e.reqs, out)
			continue
		}
		outs := make([]groupResult, len(e.futures))
		for i, f := range e.futures {
			outs[i] = futureResult(f)
		}
		free <- struct{}{}
		for i, r := range e.reqs {
			r.finish(n, outs[i])
		}
	}
}

// drainGroup tells the writers still queued when the node closes.
func (n *Node) drainGroup() {
	for {
		select {
		case r := <-n.groupQ:
			r.finish(n, groupResult{err: ErrClosed})
		default:
			return
		}
	}
}

// futureResult waits for f and returns its apply result or error.
func futureResult(f raft.ApplyFuture) groupResult {
	if err := f.Error(); err != nil {
		return groupResult{err: mapRaftErr(err)}
	}
	return groupResult{res: f.Response()}
}

// deliverBatch hands each writer of a batch entry its command's result.
func (n *Node) deliverBatch(reqs []*groupReq, out groupResult) {
	if out.err != nil {
		for _, r := range reqs {
			r.finish(n, out)
		}
		return
	}
	res, ok := out.res.(state.BatchResult)
	if !ok || len(res) != len(reqs) {
		err := fmt.Errorf("raftnode: batch of %d applied with result %T", len(reqs), out.res)
		for _, r := range reqs {
			r.finish(n, groupResult{err: err})
		}
		return
	}
	for i, r := range reqs {
		r.finish(n, groupResult{res: res[i]})
	}
}

// checkBatches turns batches on while this node leads and every member,
// as far as the replicated member table and raft's configuration tell,
// applies CmdBatch.
func (n *Node) checkBatches() bool {
	ok := n.raft.State() == raft.Leader && n.membersApplyBatches()
	n.batchOK.Store(ok)
	return false
}

func (n *Node) membersApplyBatches() bool {
	cfg, err := n.configuration()
	if err != nil {
		return false
	}
	for _, s := range cfg.Servers {
		m, ok := n.st.Member(string(s.ID))
		if !ok || m.LogVersion < state.LogVersion {
			return false
		}
	}
	return true
}
