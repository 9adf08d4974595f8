// Package xmpp is Parley's XMPP gateway: an XEP-0114 external component of
// a real XMPP server (Prosody, ejabberd) that carries instant messages
// between our SIP users and the XMPP world (RFC 7247, RFC 7572), and,
// later, presence (RFC 8048). New returns the sdk.App that
// cmd/parley-xmpp serves: a singleton plugin claiming *@ each XMPP domain.
//
// One concern per file (README.md):
//
//   - plugin.go: the plugin (Configure, Claim, Handle, Health).
//   - sip2xmpp.go, xmpp2sip.go, imdn.go: IM both ways, late errors.
//   - handler.go, stanzas.go, iq.go, ratelimit.go: the component
//     stream's handler, bounded stanza decoding, disco/ping/version, the
//     per-JID rate limit.
//   - linkclient.go: the plugin's own SIP client on the node's link.
//   - address.go, escape.go: SIP URI <-> JID mapping (RFC 7247 section 6,
//     RFC 7622, XEP-0106), with typed errors.
//   - errors.go: the two error tables of RFC 7247 section 7.
//   - presence.go: XMPP presence <-> PIDF/RPID (not wired yet).
//   - settings.go: the chain entry's settings as a typed Config.
//   - component.go: the XEP-0114 component link (dial, handshake,
//     reconnect with backoff).
//
// The package imports core/presdoc and plugins/sdk and nothing else of
// the server.
package xmpp
