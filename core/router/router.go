package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/transport"
)

// Config wires the router to the node's state.
type Config struct {
	Node      string // this node's id: bindings homed here go down their flow
	State     *state.State
	Location  *location.Service
	Listeners *transport.Set
	// Secret returns the cluster secret that keys the cluster-link
	// Route tokens (nil before the pipeline has one).
	Secret func() []byte
	// Ours reports whether host:port is one of our domains or this node;
	// AOR maps a URI of ours to the user's AOR.
	Ours func(host string, port int) bool
	AOR  func(u sip.Uri) string
	// TxLifetime bounds failover (the transaction lifetime, sip-timeout).
	TxLifetime time.Duration
	// FailoverTimer is how long an endpoint may stay silent before a
	// request goes on to the user's next one (config failover-timer;
	// 4 s when zero, at most half of TxLifetime).
	FailoverTimer time.Duration
	// Serial makes an INVITE fail over one endpoint at a time instead of
	// forking to all of them at once (config invite-fork serial).
	Serial bool
	// MaxBranches bounds a forked INVITE's branches (config max-branches;
	// 8 when zero, at most 32).
	MaxBranches int
	// Offline keeps a MESSAGE for a user nobody can reach and returns
	// the answer (core/offline's Store: 202, 486 or 480); nil: such a
	// MESSAGE gets 480.
	Offline func(ctx context.Context, req *sip.Request, aor string) (code int, reason string)
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

// Router picks targets for requests to our users.
type Router struct {
	cfg Config
	log *slog.Logger
}

// New returns a router.
func New(cfg Config) *Router {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Router{cfg: cfg, log: log}
}

// Errors Choose returns; the chain answers them 404, 480 and 500.
var (
	ErrNotFound    = errors.New("router: no such user")
	ErrUnavailable = errors.New("router: user disabled or not reachable")
	ErrBadContact  = errors.New("router: binding contact does not parse")
	// errNoLink: a binding's home node publishes no usable cluster link
	// (answered 480, as ErrUnavailable).
	errNoLink = fmt.Errorf("%w: home node has no cluster link", ErrUnavailable)
	// errNotRegistered: the user has no current binding (answered 480,
	// or stored when it is a MESSAGE and offline storage is on).
	errNotRegistered = fmt.Errorf("%w: not registered", ErrUnavailable)
)

// Endpoint is the binding a request was routed to.
type Endpoint = chain.Endpoint

// Choice is the router's decision: the target, and the binding it
// stands for (the one failover starts from).
type Choice = chain.Choice

// Choose is our Routing.am: a request for a user of our domains goes to
// that user's most active and available endpoint. ErrNotFound: no such
// user; ErrUnavailable: disabled, not registered, or homed on a node
// without a link; ErrBadContact: the stored contact does not parse.
func (r *Router) Choose(req *sip.Request) (Choice, error) {
	u := req.Recipient
	if u.User == "" {
		return Choice{}, ErrNotFound
	}
	aor := r.cfg.AOR(u)
	usr, ok := r.cfg.State.User(aor)
	if !ok {
		return Choice{}, ErrNotFound
	}
	if !usr.Enabled {
		return Choice{}, ErrUnavailable
	}
	b, ok := r.cfg.Location.Best(aor)
	if !ok {
		return Choice{}, errNotRegistered
	}
	t, err := r.bindingTarget(req, aor, b)
	if err != nil {
		return Choice{}, err
	}
	return Choice{Target: t, Endpoint: Endpoint{AOR: aor, Key: b.Key(), Home: b.Home}}, nil
}

// bindingTarget is where a request for binding b of aor goes: down the
// flow when it is homed here, else through its home node's link.
func (r *Router) bindingTarget(req *sip.Request, aor string, b state.Binding) (proxy.Target, error) {
	if b.Home != r.cfg.Node {
		var uri sip.Uri
		if err := sip.ParseUri(b.Contact, &uri); err != nil {
			return proxy.Target{}, fmt.Errorf("%w: %w", ErrBadContact, err)
		}
		return r.homeTarget(req, aor, b, uri)
	}
	return LocalTarget(b)
}

// Remote reports whether ep is homed on another node (reached through
// its link): the node to mark down when the link refuses us.
func (r *Router) Remote(ep Endpoint) bool { return ep.Home != r.cfg.Node }
