package raftnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/raft"

	"github.com/parley-rtc/parley/cluster/state"
)

// Membership changes run on the leader; a follower forwards them. New
// members join as non-voters and the leader promotes them to voters once
// their log is within promoteLag entries of the commit index, so a node
// still downloading a snapshot never counts towards the quorum.
const (
	promoteEvery = 250 * time.Millisecond
	promoteLag   = 64
	// healthyContact is how recently a follower must have answered the
	// leader to be reported healthy (and to be promoted).
	healthyContact = 2 * time.Second
)

// Errors of membership changes.
var (
	// ErrUnknownMember is returned for a member id not in the configuration.
	ErrUnknownMember = errors.New("raftnode: no such member")
	// ErrMemberUnreachable refuses a new member the leader cannot talk to
	// over the cluster transport: wrong address, not running, the wrong
	// node id there, or (with cluster TLS) no certificate from the
	// cluster's CA.
	ErrMemberUnreachable = errors.New("raftnode: new member unreachable over the cluster transport")
)

// probeTimeout bounds the leader's check of a new member.
const probeTimeout = 5 * time.Second

// probe checks that the member id answers at addr over the cluster
// transport, which with cluster TLS proves both sides' certificates.
func (n *Node) probe(ctx context.Context, id, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var st Status
	if err := n.call(ctx, addr, "/status", struct{}{}, &st); err != nil {
		return fmt.Errorf("%w: %s at %s: %v", ErrMemberUnreachable, id, addr, err)
	}
	if st.NodeID != id {
		return fmt.Errorf("%w: %s answers as %q", ErrMemberUnreachable, addr, st.NodeID)
	}
	return nil
}

type memberOp struct {
	Op    string `json:"op"` // add, remove, transfer
	ID    string `json:"id"`
	Addr  string `json:"addr,omitempty"`
	Voter bool   `json:"voter,omitempty"`
}

type memberReply struct {
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

// AddMember adds a server to the cluster. A voter is added as a non-voter
// first and promoted by the leader once it has caught up; voter=false
// keeps it a non-voter (a read replica). Adding a member that is already
// there with the same address is a no-op, so a joining node may retry.
func (n *Node) AddMember(ctx context.Context, id, raftAddr string, voter bool) error {
	if id == "" || raftAddr == "" {
		return fmt.Errorf("raftnode: add member: id and raft address are required")
	}
	return n.memberChange(ctx, memberOp{Op: "add", ID: id, Addr: raftAddr, Voter: voter})
}

// RemoveMember removes a server from the cluster and forgets its metadata.
func (n *Node) RemoveMember(ctx context.Context, id string) error {
	return n.memberChange(ctx, memberOp{Op: "remove", ID: id})
}

// TransferLeadership hands leadership to the member id, or to the most
// up-to-date voter when id is empty.
func (n *Node) TransferLeadership(ctx context.Context, id string) error {
	return n.memberChange(ctx, memberOp{Op: "transfer", ID: id})
}

// memberChange runs op here when leader, else on the leader, waiting
// for one as writes do.
func (n *Node) memberChange(ctx context.Context, op memberOp) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	err := n.withLeader(ctx, func() error {
		if n.raft.State() == raft.Leader {
			return n.applyMemberOp(ctx, op)
		}
		addr, _ := n.raft.LeaderWithID()
		if addr == "" {
			return ErrNoQuorum
		}
		var rep memberReply
		if err := n.call(ctx, string(addr), "/member", op, &rep); err != nil {
			return err
		}
		return errOf(rep.Code, rep.Error)
	})
	if err != nil {
		return fmt.Errorf("raftnode: %s member %s: %w", op.Op, op.ID, err)
	}
	return nil
}

func (n *Node) handleMember(w http.ResponseWriter, r *http.Request) {
	var op memberOp
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&op); err != nil {
		http.Error(w, "bad member request", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), defaultWriteTimeout)
	defer cancel()
	var rep memberReply
	if n.raft.State() != raft.Leader {
		rep = memberReply{Code: codeNotLeader, Error: "not the leader"}
	} else if err := n.applyMemberOp(ctx, op); err != nil {
		rep = memberReply{Code: codeOf(err), Error: err.Error()}
	}
	writeJSON(w, rep)
}

func (n *Node) applyMemberOp(ctx context.Context, op memberOp) error {
	timeout := defaultWriteTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	cfg, err := n.configuration()
	if err != nil {
		return err
	}
	var cur *raft.Server
	for i := range cfg.Servers {
		if string(cfg.Servers[i].ID) == op.ID {
			cur = &cfg.Servers[i]
		}
	}
	switch op.Op {
	case "add":
		if cur == nil || string(cur.Address) != op.Addr {
			if err := n.probe(ctx, op.ID, op.Addr); err != nil {
				return err
			}
		}
		suffrage := state.SuffrageNonvoter
		if op.Voter {
			suffrage = state.SuffrageVoter
		}
		// No batch entries until the new member says it applies them
		// (checkBatches turns them back on).
		n.batchOK.Store(false)
		// Record the intent first: the promotion loop reads it.
		if _, err := n.Write(ctx, state.CmdMemberPut, state.MemberPut{Member: state.Member{ID: op.ID, RaftAddr: op.Addr, Suffrage: suffrage}}); err != nil {
			return err
		}
		id, addr := raft.ServerID(op.ID), raft.ServerAddress(op.Addr)
		switch {
		case cur != nil && cur.Address == addr:
			return nil // a retried join; promotion, if meant, follows
		case cur != nil && cur.Suffrage == raft.Voter:
			n.log.Info("moving cluster member", "id", op.ID, "raft", op.Addr)
			return mapRaftErr(n.raft.AddVoter(id, addr, 0, timeout).Error())
		}
		n.log.Info("adding cluster member", "id", op.ID, "raft", op.Addr, "voter", op.Voter)
		return mapRaftErr(n.raft.AddNonvoter(id, addr, 0, timeout).Error())
	case "remove":
		if cur == nil {
			return fmt.Errorf("%w: %s", ErrUnknownMember, op.ID)
		}
		n.log.Info("removing cluster member", "id", op.ID)
		forget := func() error {
			_, err := n.Write(ctx, state.CmdMemberDelete, state.MemberDelete{ID: op.ID})
			if errors.Is(err, state.ErrNotFound) {
				err = nil
			}
			return err
		}
		self := string(cur.ID) == n.cfg.NodeID
		if self {
			// Forget ourselves first: once removed we cannot write.
			// Meanwhile publishSelf must not write the entry back.
			n.leaving.Store(true)
			if err := forget(); err != nil {
				n.leaving.Store(false)
				return err
			}
		}
		if err := n.raft.RemoveServer(cur.ID, 0, timeout).Error(); err != nil {
			n.leaving.Store(false)
			return mapRaftErr(err)
		}
		if self {
			return nil // we step down; the others elect a leader
		}
		return forget()
	case "transfer":
		var f raft.Future
		switch {
		case op.ID == "":
			f = n.raft.LeadershipTransfer()
		case cur == nil:
			return fmt.Errorf("%w: %s", ErrUnknownMember, op.ID)
		case string(cur.ID) == n.cfg.NodeID:
			return nil // already the leader
		default:
			f = n.raft.LeadershipTransferToServer(cur.ID, cur.Address)
		}
		return mapRaftErr(f.Error())
	}
	return fmt.Errorf("raftnode: unknown member operation %q", op.Op)
}

func (n *Node) configuration() (raft.Configuration, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Configuration{}, mapRaftErr(err)
	}
	return f.Configuration(), nil
}

// promoteLoop runs on every node and acts while it leads: non-voters
// meant to vote are promoted once caught up and in contact.
func (n *Node) promoteLoop() {
	n.every(promoteEvery, func() bool {
		if n.raft.State() == raft.Leader {
			n.promoteCaughtUp()
		}
		return false
	})
}

// promoteCaughtUp promotes every non-voter meant to vote whose log is
// within promoteLag of the commit index and that answered recently.
func (n *Node) promoteCaughtUp() {
	cfg, err := n.configuration()
	if err != nil {
		return
	}
	commit := n.raft.CommitIndex()
	for _, s := range cfg.Servers {
		if s.Suffrage != raft.Nonvoter {
			continue
		}
		if m, ok := n.st.Member(string(s.ID)); ok && m.Suffrage == state.SuffrageNonvoter {
			continue
		}
		p, ok := n.prog.get(s.ID)
		if !ok || p.lastLog+promoteLag < commit || time.Since(p.contact) > healthyContact {
			continue
		}
		n.log.Info("promoting caught-up member to voter", "id", s.ID, "last_index", p.lastLog, "commit_index", commit)
		if err := n.raft.AddVoter(s.ID, s.Address, 0, 5*time.Second).Error(); err != nil {
			n.log.Warn("promotion failed", "id", s.ID, "error", err)
		}
	}
}
