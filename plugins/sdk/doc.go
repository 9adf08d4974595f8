// Package sdk is what a Parley plugin is written with. A plugin is an
// App (a name, what it claims, a Handle function returning a Verdict)
// passed to Serve in its main function; parleyd starts the binary over
// hashicorp/go-plugin and hands it the requests its chain entry sees.
//
// The same App runs in process through InProcess, which is how plugin
// unit tests and the node's own tests drive it without a binary; the host
// talks to both through the Instance interface. Host services (bindings,
// presence, sending requests, a replicated key/value store) reach the
// node through the Host handed to Configure: over the go-plugin broker
// out of process, directly in process.
//
// See plugins/README.md for the contract and the lifecycle.
package sdk
