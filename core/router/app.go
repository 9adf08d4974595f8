package router

import (
	"context"
	"errors"

	"github.com/parley-rtc/parley/core/chain"
)

// Name is the router's chain entry name.
const Name = "router"

var _ chain.App = (*Router)(nil)

// Name is the chain entry's name (chain.App).
func (r *Router) Name() string { return Name }

// Handle is the router's chain entry (chain.App): it leaves strict-routed
// requests, claimed addresses and other domains alone (Continue), answers
// 404 for an unknown user, 480 for one disabled or unreachable and 500
// for a stored contact that does not parse, and otherwise continues with
// its Choice: the chain goes on (applications placed after the router
// still see the request) and the pipeline forwards to the choice at its
// end, failing over along the user's endpoints (Forward).
func (r *Router) Handle(_ context.Context, req *chain.Request) (chain.Verdict, error) {
	u := req.Req.Recipient
	if req.StrictRouted || req.Claimed || !r.cfg.Ours(u.Host, u.Port) {
		return chain.Continue(), nil // Routing.am leaves fixed routes, claimed addresses and other domains alone
	}
	ch, err := r.Choose(req.Req)
	switch {
	case err == nil:
		v := chain.Continue()
		v.Chosen, v.Choice = true, ch
		return v, nil
	case errors.Is(err, ErrNotFound):
		return chain.Respond(404, "Not Found"), nil
	case errors.Is(err, ErrBadContact):
		return chain.Respond(500, "Server Internal Error (bad contact)"), nil
	}
	return chain.Respond(480, "Temporarily Unavailable"), nil
}
