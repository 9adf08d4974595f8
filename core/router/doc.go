// Package router is the default router (our Routing.am, the chain's
// built-in "router" entry): where a request for a user of our domains
// goes. It picks the user's most active and available endpoint
// cluster-wide (Choose: the highest q, then the most recent activity,
// skipping bindings whose home node is down), builds its target (down the
// flow when the binding is homed here, else through the home node's
// cluster link with a `ph` Route, home.go), and fails over to the user's
// next-best endpoints while the chosen one cannot be reached (Forward,
// failover.go). It also builds the cluster-link targets a singleton
// plugin's lease holder is reached by (LinkTarget), and holds the rule
// that assigns a user's home node (AssignHome, assign.go), which a
// director's redirect follows.
//
// The router decides; it does not send. The pipeline hands it a send
// function (core/pipeline's forward: the proxy core with redirect
// recursion and topology hiding), so the router has no transaction of
// its own and imports nothing of core/pipeline.
package router
