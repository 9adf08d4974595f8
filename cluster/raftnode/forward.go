package raftnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/raft"

	"github.com/parley-rtc/parley/cluster/state"
)

// Forwarding: a follower hands writes, membership changes and read-index
// requests to the leader as small JSON calls over HTTP on a forward
// stream of the raft port (see stream.go), so they carry the cluster's
// TLS identity. Concurrent writes are coalesced into one call.
const (
	fwdWorkers  = 4   // calls in flight to the leader at once
	maxFwdBatch = 512 // commands per call, like MaxAppendEntries
	maxFwdBody  = 64 << 20
	// fwdDialTimeout bounds connecting to the leader: a leader that does
	// not answer within it is treated as gone (the write is retried).
	fwdDialTimeout = 2 * time.Second
)

// Result codes of forwarded calls.
const (
	codeOK        = ""
	codeApply     = "apply"      // committed; the command's apply returned an error
	codeNotLeader = "not_leader" // the callee is not (or no longer) the leader
	codeNoQuorum  = "no_quorum"
	codeTimeout   = "timeout"
	codeClosed    = "closed"
	codeInvalid   = "invalid"
	codeUnknown   = "unknown_member"
	codeProbe     = "member_unreachable"
)

type applyRequest struct {
	Cmds    [][]byte `json:"cmds"`
	Timeout int64    `json:"timeout_ms"`
}

type applyResult struct {
	Index uint64 `json:"index,omitempty"`
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

type applyReply struct {
	Results []applyResult `json:"results"`
}

// codeOf classifies a local error for the caller on the other side.
func codeOf(err error) string {
	switch {
	case err == nil:
		return codeOK
	case errors.Is(err, ErrNotLeader):
		return codeNotLeader
	case errors.Is(err, ErrNoQuorum):
		return codeNoQuorum
	case errors.Is(err, ErrClosed):
		return codeClosed
	case errors.Is(err, context.DeadlineExceeded):
		return codeTimeout
	case errors.Is(err, ErrUnknownMember):
		return codeUnknown
	case errors.Is(err, ErrMemberUnreachable):
		return codeProbe
	}
	return codeInvalid
}

// errOf turns a forwarded failure back into the sentinel callers test.
func errOf(code, msg string) error {
	var base error
	switch code {
	case codeOK:
		return nil
	case codeNotLeader:
		base = ErrNotLeader
	case codeNoQuorum:
		base = ErrNoQuorum
	case codeClosed:
		base = ErrNotLeader // the leader is going away: try the next one
	case codeTimeout:
		base = context.DeadlineExceeded
	case codeUnknown:
		base = ErrUnknownMember
	case codeProbe:
		base = ErrMemberUnreachable
	default:
		return fmt.Errorf("raftnode: leader: %s", msg)
	}
	return fmt.Errorf("raftnode: leader: %s: %w", msg, base)
}

// serveForward answers forwarded calls arriving on the raft port.
func (n *Node) serveForward() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apply", n.handleApply)
	mux.HandleFunc("POST /member", n.handleMember)
	mux.HandleFunc("POST /read-index", n.handleReadIndex)
	mux.HandleFunc("POST /status", n.handleStatus)
	n.fwdSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	n.bg.Go(func() { _ = n.fwdSrv.Serve(n.layer.fwd) })
}

// handleApply commits forwarded commands as leader, all at once so raft
// batches them, and answers each one's log index.
func (n *Node) handleApply(w http.ResponseWriter, r *http.Request) {
	var req applyRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxFwdBody)).Decode(&req); err != nil {
		http.Error(w, "bad apply request", http.StatusBadRequest)
		return
	}
	timeout := time.Duration(req.Timeout) * time.Millisecond
	if timeout <= 0 || timeout > defaultWriteTimeout {
		timeout = defaultWriteTimeout
	}
	out := applyReply{Results: make([]applyResult, len(req.Cmds))}
	futures := make([]raft.ApplyFuture, len(req.Cmds))
	for i, data := range req.Cmds {
		if r.Context().Err() != nil {
			// The follower gave up (it may already have told its
			// caller the write failed): do not start it now.
			out.Results[i] = applyResult{Code: codeTimeout, Error: "caller gone"}
			continue
		}
		if n.raft.State() != raft.Leader {
			out.Results[i] = applyResult{Code: codeNotLeader, Error: "not the leader"}
			continue
		}
		c, err := state.Decode(data)
		if err == nil && !c.Applicable() {
			err = fmt.Errorf("unknown command type %d", c.Type)
		}
		if err == nil {
			c.Time = time.Now().UnixNano() // the leader's clock, as for local writes
			data, err = c.Encode()
		}
		if err != nil {
			out.Results[i] = applyResult{Code: codeInvalid, Error: err.Error()}
			continue
		}
		futures[i] = n.raft.Apply(data, timeout)
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		if err := f.Error(); err != nil {
			err = mapRaftErr(err)
			out.Results[i] = applyResult{Code: codeOf(err), Error: err.Error()}
			continue
		}
		out.Results[i].Index = f.Index()
		if e, ok := f.Response().(error); ok {
			out.Results[i].Code, out.Results[i].Error = codeApply, e.Error()
		}
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// call posts in to path on the member at addr and decodes the answer.
func (n *Node) call(ctx context.Context, addr, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("raftnode: encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("raftnode: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.fwdClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("raftnode: leader %s: %w", addr, context.Cause(ctx))
		}
		return fmt.Errorf("raftnode: leader %s unreachable: %v: %w", addr, err, ErrNoQuorum)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("raftnode: leader %s: %s: %s", addr, resp.Status, bytes.TrimSpace(msg))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxFwdBody)).Decode(out); err != nil {
		return fmt.Errorf("raftnode: leader %s: decode %s answer: %w", addr, path, err)
	}
	return nil
}

func newForwardClient(layer *muxLayer) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			timeout := fwdDialTimeout
			if dl, ok := ctx.Deadline(); ok {
				timeout = min(timeout, time.Until(dl))
			}
			return layer.dial(addr, streamForward, timeout)
		},
		MaxIdleConnsPerHost: fwdWorkers * 2,
		IdleConnTimeout:     time.Minute,
		ForceAttemptHTTP2:   false,
	}}
}

// fwdReq is one write waiting to be forwarded.
type fwdReq struct {
	data     []byte
	deadline time.Time
	out      chan applyResult
}

// forwardLoop sends queued writes to the leader, each call carrying
// every write that queued up while the previous one was in flight.
func (n *Node) forwardLoop() {
	for {
		var batch []*fwdReq
		select {
		case <-n.done:
			return
		case r := <-n.fwdQ:
			batch = append(batch, r)
		}
	drain:
		for len(batch) < maxFwdBatch {
			select {
			case r := <-n.fwdQ:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		n.sendBatch(batch)
	}
}

func (n *Node) sendBatch(batch []*fwdReq) {
	fail := func(code, msg string) {
		for _, r := range batch {
			r.out <- applyResult{Code: code, Error: msg}
		}
	}
	addr, _ := n.raft.LeaderWithID()
	if addr == "" {
		fail(codeNoQuorum, "no leader")
		return
	}
	if addr == n.trans.LocalAddr() {
		fail(codeNotLeader, "became leader") // Submit retries locally
		return
	}
	req := applyRequest{Cmds: make([][]byte, len(batch))}
	deadline := time.Now()
	for i, r := range batch {
		req.Cmds[i] = r.data
		if r.deadline.After(deadline) {
			deadline = r.deadline
		}
	}
	req.Timeout = time.Until(deadline).Milliseconds()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = n.whileLeader(ctx, addr)
	var rep applyReply
	if err := n.call(ctx, string(addr), "/apply", req, &rep); err != nil {
		fail(codeOf(err), err.Error())
		return
	}
	if len(rep.Results) != len(batch) {
		fail(codeInvalid, fmt.Sprintf("leader answered %d results for %d commands", len(rep.Results), len(batch)))
		return
	}
	for i, r := range batch {
		r.out <- rep.Results[i]
	}
}

// errLeaderChanged ends a call to a leader this node no longer follows
// (it stopped hearing from it, or another one was elected): the write is
// retried with the next leader rather than waiting out its deadline.
var errLeaderChanged = fmt.Errorf("leader changed during the call: %w", ErrNotLeader)

// whileLeader returns a context that is cancelled when this node stops
// seeing addr as the leader.
func (n *Node) whileLeader(ctx context.Context, addr raft.ServerAddress) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	n.bg.Go(func() { // only forward workers call this: bg is never idle here
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-n.done:
				cancel(ErrClosed)
				return
			case <-t.C:
			}
			if cur, _ := n.raft.LeaderWithID(); cur != addr {
				cancel(errLeaderChanged)
				return
			}
		}
	})
	return ctx
}

// forward sends one encoded command to the leader and waits until it is
// applied here too, so the caller reads its own write on this node.
func (n *Node) forward(ctx context.Context, data []byte) (any, error) {
	dl, _ := ctx.Deadline()
	r := &fwdReq{data: data, deadline: dl, out: make(chan applyResult, 1)}
	select {
	case n.fwdQ <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.done:
		return nil, ErrClosed
	}
	var res applyResult
	select {
	case res = <-r.out:
	case <-n.done:
		return nil, ErrClosed
	}
	if res.Code != codeOK && res.Code != codeApply {
		return nil, errOf(res.Code, res.Error)
	}
	local, known, err := n.res.wait(ctx, res.Index, n.done)
	if err != nil {
		return nil, err
	}
	if !known && res.Code == codeApply {
		return nil, errors.New(res.Error) // applied here through a snapshot
	}
	return local, nil
}
