package presence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// Event packages served.
const (
	EventPresence = "presence"
	EventWinfo    = "presence.winfo"
)

// Config tunes the agent.
type Config struct {
	Node       string
	Domains    []string
	MinExpires time.Duration // PUBLISH/SUBSCRIBE below it get 423 (default 60 s)
	MaxExpires time.Duration // longer ones are cut (default 1 h)
	// Claimed reports whether an address outside our domains is claimed
	// by a plugin of the application chain (a gateway): watchers may
	// subscribe to it and see what the plugin publishes for it. Nil: no
	// outside presentities.
	Claimed func(aor string) bool
	Logger  *slog.Logger
}

// Agent is the presence agent of one node.
type Agent struct {
	cfg     Config
	st      *state.State
	w       state.Writer
	loc     *location.Service
	px      *proxy.Proxy
	ls      *transport.Set
	log     *slog.Logger
	now     func() time.Time
	domains map[string]bool

	stopping atomic.Bool // Run's context ended: failures are ours, not the watchers'

	// The goroutines the agent starts (lifecycle.go).
	runCtx context.Context
	cancel context.CancelFunc
	life   sync.Mutex
	closed bool
	wg     sync.WaitGroup

	mu    sync.Mutex
	cseq  map[string]uint32 // last NOTIFY CSeq per subscription
	dirty map[string]bool   // resources whose watchers need a NOTIFY
	kick  chan struct{}
}

// New returns an agent; Run starts its notifier.
func New(cfg Config, st *state.State, w state.Writer, loc *location.Service, px *proxy.Proxy, ls *transport.Set) *Agent {
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = time.Minute
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = time.Hour
	}
	a := &Agent{cfg: cfg, st: st, w: w, loc: loc, px: px, ls: ls, log: cfg.Logger, now: time.Now,
		domains: make(map[string]bool), cseq: make(map[string]uint32), dirty: make(map[string]bool), kick: make(chan struct{}, 1)}
	a.runCtx, a.cancel = context.WithCancel(context.Background())
	for _, d := range cfg.Domains {
		a.domains[strings.ToLower(d)] = true
	}
	st.Observe(a.observe)
	return a
}

// Handles reports whether req belongs to the presence agent.
func Handles(req *sip.Request) bool {
	if req.Method != sip.PUBLISH && req.Method != sip.SUBSCRIBE {
		return false
	}
	ev := eventOf(req)
	return ev == EventPresence || ev == EventWinfo
}

// Request is one request for the agent, already authenticated.
type Request struct {
	Req      *sip.Request
	Tx       sip.ServerTransaction
	Identity string // authenticated AOR; "" from trusted connections (then From is believed)
	In       *transport.Listener
	Source   string
}

// Handle serves a PUBLISH or SUBSCRIBE and returns the response it sent's
// status code.
func (a *Agent) Handle(ctx context.Context, r Request) int {
	var res *sip.Response
	var after *state.Subscription // whose first (or last) NOTIFY follows the 200
	reason := ""
	if r.Req.Method == sip.PUBLISH {
		res = a.publish(ctx, r)
	} else {
		res, after, reason = a.subscribe(ctx, r)
	}
	if err := r.Tx.Respond(res); err != nil {
		a.log.Debug("presence response not sent", "error", err)
	}
	if after != nil { // the first NOTIFY goes out after the 200 (strict UAs need that order)
		a.goNotify(*after, reason)
	}
	return res.StatusCode
}

func eventOf(req *sip.Request) string {
	ev := strings.ToLower(siputil.HeaderValue(req, "Event"))
	if i := strings.IndexByte(ev, ';'); i >= 0 {
		ev = strings.TrimSpace(ev[:i])
	}
	return ev
}

// identity is who sent r: the authenticated user, else the From AOR.
func identity(r Request) string {
	if r.Identity != "" {
		return r.Identity
	}
	return siputil.AOR(r.Req.From().Address)
}

// ours reports whether aor's domain is one of ours.
func (a *Agent) ours(aor string) bool {
	at := strings.LastIndexByte(aor, '@')
	return at > 0 && a.domains[strings.ToLower(aor[at+1:])]
}

// outside reports whether aor is an outside presentity: not in our
// domains, claimed by a plugin, which publishes its presence.
func (a *Agent) outside(aor string) bool {
	return !a.ours(aor) && a.cfg.Claimed != nil && a.cfg.Claimed(aor)
}

// expires reads the Expires header: def when absent, 423 below the
// minimum, cut to the maximum; ok false means the value was bad.
func (a *Agent) expires(req *sip.Request, def time.Duration) (sec int64, tooBrief bool, ok bool) {
	v := siputil.HeaderValue(req, "Expires")
	if v == "" {
		return int64(def / time.Second), false, true
	}
	n, good := siputil.Uint(v)
	if !good {
		return 0, false, false
	}
	sec = int64(n)
	if sec != 0 && sec < int64(a.cfg.MinExpires/time.Second) {
		return sec, true, true
	}
	if max := int64(a.cfg.MaxExpires / time.Second); sec > max {
		sec = max
	}
	return sec, false, true
}

func newTag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func retryAfter(s string) sip.Header { return sip.NewHeader("Retry-After", s) }
