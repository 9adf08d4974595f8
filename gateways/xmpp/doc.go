// Package xmpp is Parley's XMPP gateway: an XEP-0114 external component of
// a real XMPP server (Prosody, ejabberd) that carries instant messages and
// presence between our SIP users and the XMPP world (RFC 7247, RFC 7572,
// RFC 8048). It will export New() sdk.App for the parley-xmpp plugin
// binary; the plugin and SIP-link wiring is not here yet.
//
// What exists today, one concern per file:
//
//   - address.go: SIP URI <-> JID mapping (RFC 7247 section 6, RFC 7622,
//     XEP-0106), with typed errors for addresses that cannot be mapped.
//   - errors.go: the two error tables of RFC 7247 section 7 and the SIP
//     code / stanza condition of each address error.
//   - presence.go: XMPP presence <-> PIDF/RPID, with LCS's seven
//     availability levels (core/presdoc).
//   - settings.go: the chain entry's settings as a typed Config.
//   - component.go: the XEP-0114 component link (dial, handshake,
//     reconnect with backoff).
//
// The package imports core/presdoc and nothing else of the server.
package xmpp
