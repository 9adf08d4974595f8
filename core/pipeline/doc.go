// Package pipeline is the road every SIP request takes through a node
// (docs/architecture.md): classify the connection by its listener's trust
// class, validate the request (RFC 3261 16.3), consume our own Route
// entries (16.4), authenticate requests from client connections with
// digest (401 for REGISTER, 407 otherwise), hand REGISTER to the
// registrar, run the application chain (chain.go; every entry a
// core/chain App, the default router among them: core/router picks the
// most active and available endpoint of a user cluster-wide), and forward
// through the proxy core: down the endpoint's flow when it is homed here,
// otherwise to its home node over the intra-cluster SIP link. route.go
// lists the steps in order; read it first. A director (director.go)
// redirects REGISTER to the user's home node instead of registering it.
//
// In-dialog requests that carry our Record-Route token follow the route
// set without a new challenge: the dialog was authenticated when it began.
package pipeline
