// Package state owns Parley's replicated state machine: the users, their
// credentials and their registration bindings, plus the cluster metadata.
//
// Every change is a typed Command applied in log order by raft. Commands are
// dispatched from a registration table (one file per command family), carry
// the request id, time and node stamped by the leader, and are applied
// deterministically: Apply never reads the clock or a random source. A
// command whose request id was already applied is skipped, so a retried
// write takes effect once. A command type this node does not know makes
// Apply panic unless the command carries FlagIgnoreUnknown, which lets a
// newer leader send optional commands during a rolling upgrade. The writer
// never sets that flag by hand: a family registers its types as ignorable
// or not (the rule is at the registry, in command.go), and Encode adds
// the flag to every command of an ignorable type.
//
// Reads are served from the local copy under a read lock; they are not
// linearizable on a follower.
package state
