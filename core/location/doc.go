// Package location is the node's view of where users can be reached: the
// replicated bindings with this node's unreplicated registration refreshes
// laid over them, expired bindings hidden, and the endpoints of an address
// of record ordered best first ("most active and available": higher q,
// then the endpoint refreshed or heard from most recently).
//
// A plain refresh only moves an expiry, so the home node keeps it here and
// replicates refreshes in one batch every interval; a lost refresh is
// repaired by the next. The home node also sweeps its lapsed bindings
// through the replicated log.
//
// Liveness (liveness.go) is this node's view of which members it can reach
// over the intra-cluster SIP link; Best skips bindings homed on members
// that are down, and Sweep also removes their lapsed bindings.
package location
