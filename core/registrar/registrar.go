package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/siputil"
)

// Config holds the registrar's limits.
type Config struct {
	Node           string
	MinExpires     time.Duration // shorter non-zero expiries get 423
	MaxExpires     time.Duration // longer ones are cut to this
	DefaultExpires time.Duration // when the request gives none
	MaxBindings    int           // per AOR; 0 means 32
	// AlwaysFlow sends requests down the REGISTER's flow even when the
	// Contact could be reached directly (config always-flow: for
	// deployments behind NATs the detection misses).
	AlwaysFlow bool
	// Own reports whether host:port is one of this node's listeners
	// (transport.Set.IsOwn): such a Contact is refused with 403.
	Own func(host string, port int) bool
}

// Registrar answers REGISTER requests.
type Registrar struct {
	cfg Config
	st  *state.State
	w   state.Writer
	loc *location.Service
	log *slog.Logger
	now func() time.Time
	// members is what the registrar derives from the member table, kept
	// until it changes (memberView).
	members atomic.Pointer[memberView]
}

// New returns a registrar.
func New(cfg Config, st *state.State, w state.Writer, loc *location.Service, log *slog.Logger) *Registrar {
	if cfg.MaxBindings <= 0 {
		cfg.MaxBindings = 32
	}
	return &Registrar{cfg: cfg, st: st, w: w, loc: loc, log: log, now: time.Now}
}

// Flow is the connection a REGISTER arrived over.
type Flow struct {
	Transport string // UDP, TCP, TLS, WS, WSS
	Source    string // remote host:port
	Local     string // our listener host:port
	// Trusted: the REGISTER came from a trusted source (a server or
	// trusted listener, the cluster link); only then is its Path kept.
	Trusted bool
}

// Request is a REGISTER to handle. AOR is the address of record from the
// To header, already checked to be ours; Identity is the authenticated
// user ("" when the connection is trusted).
type Request struct {
	Req      *sip.Request
	AOR      string
	Identity string
	Flow     Flow
}

// ErrWrite marks a failure to commit; the caller answers 503.
var ErrWrite = errors.New("registrar: write not committed")

// Handle processes a REGISTER and returns the response to send.
func (r *Registrar) Handle(ctx context.Context, in Request) *sip.Response {
	out := make(chan *sip.Response, 1)
	r.HandleAsync(ctx, in, func(res *sip.Response) { out <- res })
	select {
	case res := <-out:
		return res
	case <-ctx.Done():
		return writeFailed(in.Req, ctx.Err())
	}
}

// HandleAsync processes a REGISTER and hands respond the response to
// send, exactly once: at once when nothing needs committing (a query, a
// refresh, a refusal), otherwise once the write is committed or failed.
// With an AsyncWriter it does not wait for the write: respond then runs
// on the writer's completion goroutine and must be quick (serialise and
// send the response).
func (r *Registrar) HandleAsync(ctx context.Context, in Request, respond func(*sip.Response)) {
	req := in.Req
	if in.Identity != "" && in.Identity != in.AOR {
		respond(siputil.Response(req, 403, "Forbidden (identity does not match To)"))
		return
	}
	if u, ok := r.st.User(in.AOR); !ok || !u.Enabled {
		respond(siputil.Response(req, 404, "Not Found"))
		return
	}
	callID := req.CallID()
	cseq := req.CSeq()
	if callID == nil || cseq == nil {
		respond(siputil.Response(req, 400, "Bad Request (missing Call-ID or CSeq)"))
		return
	}
	contacts := siputil.Headers(req, "Contact")
	if len(contacts) == 0 {
		respond(r.ok(req, in.AOR))
		return
	}
	defExp := int64(r.cfg.DefaultExpires / time.Second)
	if v := siputil.HeaderValue(req, "Expires"); v != "" {
		n, ok := siputil.Uint(v)
		if !ok {
			respond(siputil.Response(req, 400, "Bad Request (Expires)"))
			return
		}
		defExp = int64(n)
	}
	path, err := paths(req, in.Flow.Trusted)
	if err != nil {
		respond(siputil.Response(req, 400, "Bad Request ("+err.Error()+")"))
		return
	}
	plan, res := r.plan(req, in, contacts, defExp, string(*callID), cseq.SeqNo, path)
	if res != nil {
		respond(res)
		return
	}
	if plan.outbound || len(path) > 0 {
		respond = withReachHeaders(respond, plan.outbound, path)
	}
	r.apply(ctx, req, in.AOR, plan, respond)
}

// plan is what one REGISTER changes.
type plan struct {
	upsert    []state.Binding
	remove    []string
	removeAll bool
	refresh   []refresh
	outbound  bool // a binding uses RFC 5626 outbound: the 200 says Require: outbound
}

type refresh struct {
	b       state.Binding
	cseq    uint32
	expires int64
}

func (r *Registrar) plan(req *sip.Request, in Request, contacts []sip.Header, defExp int64, callID string, cseq uint32, path []string) (plan, *sip.Response) {
	var p plan
	existing := r.loc.Current(in.AOR)
	byKey := make(map[string]state.Binding, len(existing))
	for _, b := range existing {
		byKey[b.Key()] = b
	}
	nowS := r.now().Unix()
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return p, siputil.Response(req, 400, "Bad Request (Contact)")
		}
		if c.Address.Wildcard {
			// RFC 3261 10.3 step 6: "*" only alone and with Expires: 0.
			if len(contacts) != 1 || defExp != 0 {
				return p, siputil.Response(req, 400, "Bad Request (wildcard Contact needs Expires: 0 and no other Contact)")
			}
			for _, b := range existing {
				if b.CallID == callID && cseq <= b.CSeq {
					return p, siputil.Response(req, 500, "Server Internal Error (out of order CSeq)", retryAfter(1))
				}
			}
			p.removeAll = true
			return p, nil
		}
		exp := defExp
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				return p, siputil.Response(req, 400, "Bad Request (Contact expires)")
			}
			exp = int64(n)
		}
		min, max := int64(r.cfg.MinExpires/time.Second), int64(r.cfg.MaxExpires/time.Second)
		if exp != 0 && exp < min {
			mh := sip.NewHeader("Min-Expires", strconv.FormatInt(min, 10))
			return p, siputil.Response(req, 423, "Interval Too Brief", mh)
		}
		if exp > max {
			exp = max
		}
		if exp != 0 {
			if why := r.refuse(c.Address); why != "" {
				r.log.Warn("contact refused", "aor", in.AOR, "contact", c.Address.String(), "source", in.Flow.Source, "reason", why)
				return p, siputil.Response(req, 403, "Forbidden ("+why+")")
			}
		}
		b, err := r.binding(c, in, callID, cseq, nowS+exp, path)
		if err != nil {
			return p, siputil.Response(req, 400, "Bad Request ("+err.Error()+")")
		}
		if exp != 0 && b.Reach == state.ReachOutbound {
			p.outbound = true
		}
		old, had := byKey[b.Key()]
		if had && old.CallID == callID && cseq <= old.CSeq {
			return p, siputil.Response(req, 500, "Server Internal Error (out of order CSeq)", retryAfter(1))
		}
		switch {
		case exp == 0:
			if had {
				p.remove = append(p.remove, b.Key())
			}
		case had && sameButExpiry(old, b):
			p.refresh = append(p.refresh, refresh{b: old, cseq: cseq, expires: b.Expires})
		default:
			p.upsert = append(p.upsert, b)
			if !had {
				byKey[b.Key()] = b
			}
		}
	}
	if len(byKey)-len(p.remove) > r.cfg.MaxBindings {
		return p, siputil.Response(req, 403, fmt.Sprintf("Forbidden (more than %d bindings)", r.cfg.MaxBindings))
	}
	return p, nil
}

func (r *Registrar) binding(c *sip.ContactHeader, in Request, callID string, cseq uint32, expires int64, path []string) (state.Binding, error) {
	b := state.Binding{
		Contact:   c.Address.String(),
		CallID:    callID,
		CSeq:      cseq,
		Q:         1000,
		Expires:   expires,
		Transport: in.Flow.Transport,
		Source:    in.Flow.Source,
		Local:     in.Flow.Local,
		Home:      r.cfg.Node,
		UserAgent: siputil.HeaderValue(in.Req, "User-Agent"),
	}
	if len(b.UserAgent) > 128 {
		b.UserAgent = b.UserAgent[:128]
	}
	if v, ok := c.Params.Get("q"); ok {
		q, err := strconv.ParseFloat(v, 64)
		if err != nil || q < 0 || q > 1 {
			return b, fmt.Errorf("q-value %q", v)
		}
		b.Q = uint16(q*1000 + 0.5)
	}
	if v, ok := c.Params.Get("+sip.instance"); ok {
		b.Instance = siputil.Unquote(v)
		if v, ok := c.Params.Get("reg-id"); ok {
			id, err := strconv.Atoi(v)
			if err != nil || id < 0 {
				return b, fmt.Errorf("reg-id %q", v)
			}
			b.RegID = id
		}
	}
	// Reach and Path need log version 3 on every member (binding.update
	// body V2); until then the binding is reached as before, by its flow.
	if r.memberView().logVersion >= 3 {
		b.Reach = r.reachOf(c, in, asksOutbound(in.Req, c, path), path)
		if len(path) > 0 {
			b.Path = &path
		}
	}
	return b, nil
}

// withReachHeaders adds to a 200 what RFC 5626 and RFC 3327 ask of the
// registrar: Require: outbound when outbound is used, and the Path it
// stored.
func withReachHeaders(respond func(*sip.Response), outbound bool, path []string) func(*sip.Response) {
	return func(res *sip.Response) {
		if res.StatusCode == 200 {
			if outbound {
				res.AppendHeader(sip.NewHeader("Require", "outbound"))
			}
			if len(path) > 0 {
				res.AppendHeader(sip.NewHeader("Path", "<"+strings.Join(path, ">, <")+">"))
			}
		}
		respond(res)
	}
}

// sameButExpiry reports whether b only moves old's expiry: same contact,
// Call-ID, q and flow.
func sameButExpiry(old, b state.Binding) bool {
	return old.Contact == b.Contact && old.CallID == b.CallID && old.Q == b.Q &&
		old.Transport == b.Transport && old.Source == b.Source && old.Local == b.Local && old.Home == b.Home &&
		old.Reach == b.Reach && slices.Equal(old.PathURIs(), b.PathURIs())
}

func retryAfter(s int) sip.Header { return sip.NewHeader("Retry-After", strconv.Itoa(s)) }
