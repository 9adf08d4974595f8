// Package api holds the wire types of Parley's admin HTTP API: the JSON
// objects core/admin serves and takes, and parleyctl (or a plugin, or any
// other Go client) sends and reads. It is the public contract, so its
// field names and shapes change only compatibly; testdata holds a golden
// body of each object, checked against both these types and the server.
//
// The package imports only the standard library: never cluster/, raft or
// core/. The server converts its replicated state (cluster/state, whose
// JSON tags are the raft log's and snapshot's format, not this API) to and
// from these types at the handler.
package api
