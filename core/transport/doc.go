// Package transport opens parleyd's SIP listeners (UDP, TCP, TLS, WS, WSS)
// on a sipgo server and remembers what each one is: its transport, the
// address it advertises in Via and Record-Route, and its trust class
// (client, server or trusted), so the pipeline can classify every request
// by the listener it arrived on.
package transport
