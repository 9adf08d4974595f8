// Package registrar implements the SIP registrar of RFC 3261 section 10.3
// for the users of our domains: it adds, refreshes, removes and lists the
// bindings of an address of record. New, changed and removed bindings are
// committed through the replicated log before the 200 OK goes out; a plain
// refresh only moves an expiry and is recorded by the location service,
// which replicates refreshes in batches.
//
// Each binding keeps its +sip.instance and reg-id (RFC 5626) when the
// client sends them, its q-value, and the flow it came over (transport,
// remote and local address, home node), so requests can be sent back down
// that flow.
package registrar
