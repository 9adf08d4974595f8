// Package directory owns Parley's user accounts: it validates user names,
// passwords and display names, turns passwords into the digest HA1 values
// the cluster stores (MD5 and SHA-256, realm = the user's domain), and
// imports users in bulk from CSV.
//
// A Directory reads users from the local replicated state and writes
// through a state.Writer (the raft node in parleyd), so every change is a
// replicated command. Names are "user" (the default domain, the first of
// the configured domains) or "user@domain" for any configured domain. The
// user part is case-sensitive and limited to the RFC 3261 user characters;
// domains are compared case-insensitively and stored lower-case.
//
// Passwords never leave this package: they are hashed on the way in and
// never logged or echoed in errors.
package directory
