// Package rules is Parley's operator-written message rules (our MSPL): a
// short, ordered list of rules, each a boolean expression over a SIP
// request and the actions to take when it holds (answer with a final
// response, redirect, route to a next hop, add or remove a header, log).
//
// Operators write rules in YAML (or JSON) and the package compiles them
// once into an immutable [Set]; a proxy asks the set, per request, which
// actions apply with [Set.Evaluate]. Expressions are written in the expr
// language (github.com/expr-lang/expr) over the fields of [Message] plus a
// few functions (header, hasHeader, hour, weekday, inList) and the
// "matches" regular-expression operator. docs/rules.md is the operator's
// reference: fields, functions, actions, examples and error messages.
//
// The package owns compiling and evaluating rules only; applying the
// actions (answering, rewriting, forwarding) is the caller's.
package rules
