// Package webrtc is the WebRTC gateway (binary parley-webrtc): a
// per-node back-to-back user agent on the node's SIP link that lets a
// browser (SIP over WebSocket, a WebRTC offer: ICE, DTLS-SRTP,
// RTP/SAVPF) call a phone that speaks plain RTP/AVP, relaying the audio
// payloads untouched after steering both sides to a common codec.
//
// The chain entry (Handle) decides with Decide whether an INVITE needs
// the gateway (decide.go); if so it proxies the INVITE to the gateway's
// own sipgo user agent (ua.go), which answers the browser with pion/webrtc
// and places the plain-RTP leg through the node (bridge.go). README.md
// says what exists and what is not yet built.
package webrtc
