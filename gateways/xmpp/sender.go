package xmpp

import (
	"context"

	"github.com/emiago/sipgo/sip"
)

// requestSender sends a SIP request and returns its final response:
// sdk.Host.SendRequest, which with no target sends it through the
// node's SIP link with the plugin's credential (a fake in unit tests).
type requestSender interface {
	SendRequest(ctx context.Context, req *sip.Request, target string) (*sip.Response, error)
}
