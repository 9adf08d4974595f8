// Package codec converts between sipgo messages and the plugin protocol
// (plugins/proto/parleyv1): requests and responses travel as their raw
// bytes plus a few parsed fields, and a plugin's verdict is checked and
// turned into a contract.Verdict. Everything a plugin sends is
// untrusted: Decode* never panic and refuse what the pipeline could not
// safely apply.
package codec
