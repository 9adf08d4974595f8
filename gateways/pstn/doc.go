// Package pstn is the routing core of Parley's IP-PSTN gateway adapter
// (issue 16): the adapter's configuration document, dial plans that turn
// what phones dial into E.164 numbers or internal extensions, the route
// decision that turns a caller and a number into an ordered list of
// trunks, the failover policy as data, per-trunk number translation, and
// the dry run behind `parleyctl pstn test`.
//
// The package owns phone-number routing. The core's static routes
// (core/staticroute) stay for the IP-destination rule and as the
// emergency fallback when the adapter is down.
//
// New is the plugin (cmd/parley-pstn): a chain entry that watches the
// replicated configuration document through the host's Document service,
// swaps its compiled Plan per version, and answers phone calls with a
// Fork verdict whose branches carry each trunk's Request-URI, caller ID
// and failover policy (the core walks them). Health probing, trunk
// registration and inbound calls are not built yet (README.md, Not
// yet). Numbers are checked with
// github.com/nyaruka/phonenumbers when a configuration is validated,
// never per call: a compiled Plan does plain string work, precompiled
// regular expressions and a prefix trie.
//
// One concern per file:
//
//   - config.go: the configuration document and its JSON decoder.
//   - errors.go: the Err* values callers branch on.
//   - validate.go: Validate, every problem named, wrapping Err* values.
//   - translate.go: $1-style translations and trunk number formats.
//   - plan.go: Compile, the per-call form of a valid configuration.
//   - normalize.go: dialled string -> E.164 or extension, by dial plan.
//   - route.go, trie.go: (user, number) -> ordered trunks with reasons.
//   - inbound.go: a trunk's call -> E.164 numbers and the user they reach.
//   - failover.go: which answers fail over, and what goes upstream.
//   - dryrun.go: Explain, the dry run.
//   - settings.go: the plugin's chain-entry settings.
//   - plugin.go: New, the document watch and the plan swap.
//   - call.go, hop.go: which requests are phone calls, and their verdict.
//
// The package imports nothing of the server (plugins/contract/boundary_test.go).
package pstn
