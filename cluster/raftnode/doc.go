// Package raftnode runs the raft consensus node that replicates Parley's
// state: a bolt-backed log and stable store, file snapshots, a TCP
// transport, and the write path that stamps each command with its request
// id, time and node before it enters the log.
//
// A node with no prior state and no cluster to join bootstraps a one-node
// cluster, which is the default deployment. The first leader creates the
// cluster secret.
package raftnode
