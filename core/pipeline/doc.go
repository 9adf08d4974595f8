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
// lists the steps in order; read it first. A director (home_director.go)
// redirects REGISTER to the user's home node instead of registering it.
//
// In-dialog requests that carry our Record-Route token follow the route
// set without a new challenge: the dialog was authenticated when it began.
//
// The files, by group (the groups by file-name prefix; see
// docs/architecture.md for why home and edge are not sub-packages):
//
//   - The road: route.go (the steps in order), pipeline.go (Config, the
//     call, Handle), validate.go, limit.go, authn.go, dialog.go (route
//     consumption and in-dialog forwarding), services.go (User Services,
//     forwarding), chain.go, plugins.go, pluginrun.go, link.go (the SIP
//     link of plugins), strict.go and partners.go (the protocol stack,
//     federation).
//   - home_*.go, home.go: cluster forwarding. The home side of
//     home-node routing (home.go), singleton plugins at their lease
//     holder (home_lease.go), the director's redirect (home_director.go;
//     the assignment rule itself is core/router's AssignHome).
//   - edge*.go: the edge role (edge.go) and topology hiding
//     (edge_topology.go, edge_topology_seal.go).
//   - udp.go: our side of the UDP fast path, which is a package of its
//     own (core/pipeline/udpfast: stateless challenge, direct path,
//     workers, retransmissions). It calls back through udpfast.Pipeline
//     (udpHook here: StatelessChallenge, ServeDirect); the pipeline
//     calls it at UDP().Intercept (the listeners' hook, which the node
//     installs), Absorb (Handle) and CancelsDirect (the CANCEL step).
package pipeline
