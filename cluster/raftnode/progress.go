package raftnode

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// progress remembers, on the leader, how far each follower's log reaches
// and when it last answered: hashicorp/raft keeps its match indexes
// private, so the transport records them from AppendEntries answers. The
// leader promotes caught-up non-voters from it, and status reports lag
// and health.
type progress struct {
	mu    sync.Mutex
	peers map[raft.ServerID]peerProgress
}

type peerProgress struct {
	lastLog uint64    // the follower's last log index, from its latest answer
	contact time.Time // when it last answered an AppendEntries
}

func (p *progress) record(id raft.ServerID, lastLog uint64) {
	p.mu.Lock()
	if p.peers == nil {
		p.peers = make(map[raft.ServerID]peerProgress)
	}
	p.peers[id] = peerProgress{lastLog: lastLog, contact: time.Now()}
	p.mu.Unlock()
}

func (p *progress) get(id raft.ServerID) (peerProgress, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pp, ok := p.peers[id]
	return pp, ok
}

// trackingTransport wraps a transport to feed progress. Pipelining is
// off (as raft's own analysis recommends with batching), so every
// AppendEntries answer passes through here.
type trackingTransport struct {
	raft.Transport
	prog *progress
}

var (
	_ raft.WithClose   = (*trackingTransport)(nil)
	_ raft.WithPreVote = (*trackingTransport)(nil)
)

func (t *trackingTransport) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}

func (t *trackingTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	err := t.Transport.AppendEntries(id, target, args, resp)
	if err == nil {
		t.prog.record(id, resp.LastLog)
	}
	return err
}

func (t *trackingTransport) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return t.Transport.(raft.WithPreVote).RequestPreVote(id, target, args, resp)
}

func (t *trackingTransport) Close() error {
	if c, ok := t.Transport.(raft.WithClose); ok {
		return c.Close()
	}
	return nil
}
