// Package node assembles one parleyd node from its configuration: the
// replicated state on raft, the SIP listeners and pipeline (registrar,
// default router, proxy), the user directory, and the admin HTTP API with
// metrics and health endpoints. Run starts everything and stops it in
// order when the context ends.
package node
