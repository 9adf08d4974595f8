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
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	published := false
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
		}
		if n.Ready() != nil || !n.inConfiguration() {
			continue // not ready, or removed: do not bring the entry back
		}
		cur, ok := n.st.Member(self.ID)
		if ok && cur.Merge(self) == cur {
			if !published {
				published = true
				t.Reset(selfCheckEvery)
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := n.Write(ctx, state.CmdMemberPut, state.MemberPut{Member: self})
		cancel()
		if err != nil {
			n.log.Debug("member entry not written yet", "error", err)
		}
	}
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
