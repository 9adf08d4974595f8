// Package raftnode runs the raft consensus node that replicates Parley's
// state: a log and stable store (raft-wal by default, raft-boltdb on
// request, with a one-way migration from bolt to wal; see Config.Store),
// file snapshots, and one TCP port (optionally mutual TLS, see LoadTLS)
// that carries both raft RPCs and the calls followers make to the leader.
//
// A node with no prior state and no cluster to join bootstraps a one-node
// cluster, which is the default deployment; the first leader creates the
// cluster secret. Others are added with AddMember (through any member: a
// follower hands membership changes to the leader), join as non-voters and
// are promoted once their log has caught up. RemoveMember and
// TransferLeadership complete the set; Status and ClusterStatus report each
// member's role, progress and health as the leader sees them.
//
// Write (the state.Writer every core package uses) stamps a command with
// its request id, time and node; on the leader it goes into the log, on a
// follower it is forwarded (coalesced with concurrent writes) and returns
// once committed and applied locally. Without a reachable leader writes
// fail with ErrNoQuorum after a few seconds; local reads keep working.
// ReadConsistent makes following reads linearizable.
//
// Each node writes its own entry (admin URL, intra-cluster SIP address,
// role) into the replicated member table (state.Member) once ready.
package raftnode
