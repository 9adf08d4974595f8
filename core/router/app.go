package router

import (
	"context"
	"errors"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/chain"
)

// Name is the router's chain entry name.
const Name = "router"

var _ chain.App = (*Router)(nil)

// Name is the chain entry's name (chain.App).
func (r *Router) Name() string { return Name }

// Handle is the router's chain entry (chain.App): it leaves strict-routed
// requests, claimed addresses and other domains alone (Continue), answers
// 404 for an unknown user, 480 for one disabled or unreachable (a
// MESSAGE for one not registered is stored instead: Config.Offline) and 500
// for a stored contact that does not parse, and otherwise continues with
// its Choice: the chain goes on (applications placed after the router
// still see the request) and the pipeline forwards to the choice at its
// end, failing over along the user's endpoints (Forward).
func (r *Router) Handle(ctx context.Context, req *chain.Request) (chain.Verdict, error) {
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
	case errors.Is(err, errNotRegistered) && r.storable(req.Req):
		return chain.Respond(r.cfg.Offline(ctx, req.Req, r.cfg.AOR(u))), nil
	}
	return chain.Respond(480, "Temporarily Unavailable"), nil
}

// storable reports whether req is kept for its user when nobody can take
// it: a MESSAGE outside a dialog, with offline storage on.
func (r *Router) storable(req *sip.Request) bool {
	if r.cfg.Offline == nil || req.Method != sip.MESSAGE {
		return false
	}
	to := req.To()
	return to == nil || to.Params == nil || !to.Params.Has("tag")
}

// Unreachable answers a request none of whose endpoints could be
// reached (Forward's exhausted), after the last one failed with err: a
// MESSAGE is stored for its user (202, or 486 over quota), the rest get
// Unreached(err).
func (r *Router) Unreachable(ctx context.Context, req *sip.Request, aor string, err error) (code int, reason string) {
	if aor != "" && r.storable(req) {
		return r.cfg.Offline(ctx, req, aor)
	}
	return Unreached(err)
}
