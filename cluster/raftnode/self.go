package raftnode

import (
	"context"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// selfCheckEvery is how often a node compares its replicated member entry
// with its own configuration.
const selfCheckEvery = 5 * time.Second

// publishSelf writes this node's member entry (admin URL, SIP address,
// role, raft address) once the node is ready, and again whenever the
// replicated entry differs from what this node knows about itself (a
// restart with new addresses, or an entry lost to a removal and re-join).
func (n *Node) publishSelf() {
	self := n.cfg.Self
	self.ID, self.RaftAddr = n.cfg.NodeID, string(n.trans.LocalAddr())
	self.Suffrage = "" // the leader owns it
	self.LogVersion = state.LogVersion
	check := func() bool {
		if n.leaving.Load() {
			// Removing itself: quiet until out of the configuration,
			// so that a later re-join publishes the entry again.
			if !n.inConfiguration() {
				n.leaving.Store(false)
			}
			return false
		}
		if n.Ready() != nil || !n.inConfiguration() {
			return false // not ready, or removed: do not bring the entry back
		}
		if cur, ok := n.st.Member(self.ID); ok && cur.Merge(self) == cur {
			return true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := n.Write(ctx, state.CmdMemberPut, state.MemberPut{Member: self}); err != nil {
			n.log.Debug("member entry not written yet", "error", err)
		}
		return false
	}
	n.every(200*time.Millisecond, check) // until published
	n.every(selfCheckEvery, func() bool { check(); return false })
}

// inConfiguration reports whether this node is in its latest known raft
// configuration.
func (n *Node) inConfiguration() bool {
	cfg, err := n.configuration()
	if err != nil {
		return false
	}
	for _, s := range cfg.Servers {
		if string(s.ID) == n.cfg.NodeID {
			return true
		}
	}
	return false
}
