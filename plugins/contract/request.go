package contract

import "github.com/emiago/sipgo/sip"

// Request is what an application sees of a request: the message as it
// stands at the application's place in the chain, and where it came from.
type Request struct {
	Req          *sip.Request
	Source       string // remote host:port
	Transport    string // listener network
	Identity     string // authenticated AOR
	Trusted      bool
	StrictRouted bool
}
