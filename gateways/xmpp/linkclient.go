package xmpp

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// requestSender sends a SIP request and returns its final response: the
// node's SIP link through the gateway's own sipgo client, or
// sdk.Host.SendRequest when the node offers no link (unit tests).
type requestSender interface {
	SendRequest(ctx context.Context, req *sip.Request, target string) (*sip.Response, error)
}

// linkClient is the gateway's own SIP client on the node's link (the
// way examples/echo sends): every request goes over TCP (no size limit)
// to the link address with the instance's credential in sdk.LinkHeader,
// so the node takes it as from a trusted server asserting an identity
// the gateway claims. It is used instead of Host.SendRequest(req, ""),
// which on parleyd today reaches the link through the node's own
// transport layer and is answered 407 when the node also has a TCP
// client listener (README.md, not yet).
type linkClient struct {
	ua     *sipgo.UserAgent
	client *sipgo.Client
	link   sdk.Link
}

func newLinkClient(link sdk.Link, log *slog.Logger) (*linkClient, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("parley-xmpp/"+Version), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		return nil, fmt.Errorf("xmpp: sip user agent: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(log))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("xmpp: sip client: %w", err)
	}
	return &linkClient{ua: ua, client: client, link: link}, nil
}

// SendRequest sends req through the link (target is ignored: the node
// routes the Request-URI).
func (l *linkClient) SendRequest(ctx context.Context, req *sip.Request, _ string) (*sip.Response, error) {
	for req.RemoveHeader(sdk.LinkHeader) {
	}
	req.AppendHeader(sip.NewHeader(sdk.LinkHeader, l.link.Token))
	req.SetTransport("TCP")
	req.SetDestination(l.link.Address)
	res, err := l.client.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("xmpp: sip link: %w", err)
	}
	return res, nil
}

func (l *linkClient) Close() {
	_ = l.client.Close()
	_ = l.ua.Close()
}
