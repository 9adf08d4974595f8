// Package proxy is the stateful SIP proxy core of RFC 3261 section 16: it
// forwards a request to one target with our Via (and Record-Route when the
// request starts a dialog), relays provisional and final responses back
// through the server transaction, propagates CANCEL, answers 408 when the
// next hop never answers and 480 when it cannot be reached, and forwards
// 2xx ACKs and late 2xx retransmissions statelessly.
//
// Our Record-Route carries a token (an HMAC of the Call-ID under the
// cluster secret), so an in-dialog request naming our Route is known to
// belong to a dialog this cluster record-routed.
package proxy
