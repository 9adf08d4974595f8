// Package offline keeps MESSAGEs for users nobody can reach and hands
// them over when the user registers again (Kamailio msilo, XMPP offline
// storage).
//
// Store (store.go) is what the default router calls for a MESSAGE to a
// user of ours with no binding, or whose every endpoint failed: it
// writes an offline.store command and answers 202 Accepted only once
// the write committed, 486 Busy Here when the user's or the cluster's
// quota is full, 480 when it could not be stored.
//
// Delivery (deliver.go) runs on the node that holds the user's new
// binding (its home node: the node that committed the REGISTER). It
// watches the applied state: a binding homed here for a user with
// stored messages, or a message stored for a user with a binding homed
// here, starts a delivery. The node first takes the user's offline
// claim (a command: one deliverer per user cluster-wide), then sends
// the messages in their stored order down the binding's flow, each with
// a Date header of its original time (RFC 3261 20.17), and deletes each
// once it got a 2xx. A failure stops the delivery and leaves the rest
// for the next registration (a new binding or a new Call-ID of the
// same one), so order is kept. The leader sweeps expired messages with
// offline.sweep.
//
// Delivery is at least once: a 2xx whose delete did not commit (the
// leader lost at that instant) is sent again on the next registration.
package offline
