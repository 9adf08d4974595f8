// Package contract is what the node and its applications agree on: the
// request an application sees (Request), the verdict it returns
// (Verdict, Action), the errors a host of applications reports (Err*),
// how a Request-URI matches an address claim (MatchClaim), the changes a
// verdict may make to a request (ApplyChanges and the change rules) and
// the standard reason phrases (Reason).
//
// It is a leaf: it imports only sipgo and the standard library, so the
// plugin SDK, the codec, every example plugin and every gateway can
// depend on it without linking the server (deps_test.go enforces this
// for them). The node's chain (core/pipeline) and its built-in
// applications implement the same contract.
package contract
