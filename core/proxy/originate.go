package proxy

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// Originate sends a request this node generates as a user agent client
// (a NOTIFY, later a plugin's request) to t and returns the final
// response. req must carry From, To, Call-ID, CSeq and, for in-dialog
// requests, its Route headers; Originate adds our Via and Max-Forwards.
// A timeout returns ErrTimeout, a transport failure ErrUnreachable.
func (p *Proxy) Originate(ctx context.Context, req *sip.Request, t Target) (*sip.Response, error) {
	if req.MaxForwards() == nil {
		mf := sip.MaxForwardsHeader(71) // prepare takes one off
		req.AppendHeader(&mf)
	}
	fwd, _, err := p.prepare(req, t, false, nil)
	if err != nil {
		return nil, err
	}
	ctr, err := p.txl.Request(ctx, fwd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer ctr.Terminate()
	for {
		select {
		case res, ok := <-ctr.Responses():
			if !ok {
				return nil, ErrUnreachable
			}
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-ctr.Done():
			if errors.Is(ctr.Err(), sip.ErrTransactionTimeout) {
				return nil, ErrTimeout
			}
			return nil, fmt.Errorf("%w: %w", ErrUnreachable, ctr.Err())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
