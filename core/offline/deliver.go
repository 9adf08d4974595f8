package offline

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/router"
)

// Timing of deliveries and sweeps.
const (
	claimTTL      = 2 * time.Minute  // one delivery run holds the user's claim this long at most
	sendTimeout   = 32 * time.Second // one MESSAGE transaction
	writeTimeout  = 5 * time.Second
	sweepInterval = time.Minute
)

// delivery is the set of users waiting for a delivery run, and the
// registrations a run already failed on (user -> binding key and
// Call-ID), which are not tried again until the user registers anew.
type delivery struct {
	mu     sync.Mutex
	due    map[string]bool
	failed map[string]map[string]bool
}

func (d *delivery) init() {
	d.due = make(map[string]bool)
	d.failed = make(map[string]map[string]bool)
}

// attempt names one registration of a binding.
func attempt(b state.Binding) string { return b.Key() + "\x00" + b.CallID }

// observe runs on the apply path: it only marks users due.
func (s *Service) observe(changes []state.Change) {
	marked := false
	for _, c := range changes {
		if c.Kind != state.BindingsChanged && c.Kind != state.OfflineChanged {
			continue
		}
		if c.AOR == "" || s.cfg.State.OfflineCount(c.AOR) == 0 {
			continue
		}
		s.d.mu.Lock()
		s.d.due[c.AOR] = true
		s.d.mu.Unlock()
		marked = true
	}
	if marked {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// Run delivers to the users marked due and, on the leader, sweeps
// expired messages, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			s.sweep(ctx)
		case <-s.kick:
			s.d.mu.Lock()
			due := s.d.due
			s.d.due = make(map[string]bool)
			s.d.mu.Unlock()
			for aor := range due {
				s.Deliver(ctx, aor)
			}
		}
	}
}

func (s *Service) sweep(ctx context.Context) {
	if s.cfg.IsLeader == nil || !s.cfg.IsLeader() {
		return
	}
	if aors, _ := s.cfg.State.OfflineUsers(); len(aors) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if n, err := s.cfg.Writer.Write(wctx, state.CmdOfflineSweep, state.OfflineSweep{}); err != nil {
		s.log.Warn("offline sweep not committed", "error", err)
	} else if n, _ := n.(int); n > 0 {
		s.log.Info("expired offline messages dropped", "count", n)
	}
}

// target is the binding of aor homed here that a delivery goes to (the
// most recently updated one not failed yet), if any.
func (s *Service) target(aor string) (state.Binding, bool) {
	var best state.Binding
	found := false
	s.d.mu.Lock()
	failed := s.d.failed[aor]
	s.d.mu.Unlock()
	for _, b := range s.cfg.State.Bindings(aor) {
		if b.Home != s.cfg.Node || failed[attempt(b)] {
			continue
		}
		if !found || b.Updated > best.Updated {
			best, found = b, true
		}
	}
	return best, found
}

// Deliver hands aor's stored messages to its binding homed here, in
// order, under the user's claim. It returns how many were delivered.
func (s *Service) Deliver(ctx context.Context, aor string) int {
	b, ok := s.target(aor)
	if !ok || s.cfg.State.OfflineCount(aor) == 0 {
		return 0
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	res, err := s.cfg.Writer.Write(wctx, state.CmdOfflineClaim, state.OfflineClaim{AOR: aor, Node: s.cfg.Node, TTL: int64(claimTTL)})
	cancel()
	cl, _ := res.(state.OfflineClaimed)
	if err != nil || cl.Node != s.cfg.Node {
		s.log.Debug("offline delivery left to another node", "aor", aor, "holder", cl.Node, "error", err)
		return 0
	}
	defer s.release(aor)
	deadline := time.Unix(0, cl.Until).Add(-sendTimeout - writeTimeout)
	sent := 0
	for _, m := range cl.Messages {
		if time.Now().After(deadline) || ctx.Err() != nil {
			break // the claim runs out: the rest waits for the next run
		}
		if !s.send(ctx, b, m) {
			s.d.mu.Lock()
			if s.d.failed[aor] == nil {
				s.d.failed[aor] = make(map[string]bool)
			}
			s.d.failed[aor][attempt(b)] = true
			s.d.mu.Unlock()
			break
		}
		sent++
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		_, err := s.cfg.Writer.Write(wctx, state.CmdOfflineDelete, state.OfflineDelete{AOR: aor, IDs: []string{m.ID}})
		cancel()
		if err != nil {
			s.log.Warn("delivered offline message not deleted", "aor", aor, "id", m.ID, "error", err)
			break
		}
	}
	if sent == len(cl.Messages) {
		s.d.mu.Lock()
		delete(s.d.failed, aor)
		s.d.mu.Unlock()
	}
	s.log.Info("offline messages delivered", "aor", aor, "sent", sent, "stored", len(cl.Messages))
	return sent
}

func (s *Service) release(aor string) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if _, err := s.cfg.Writer.Write(ctx, state.CmdOfflineClaim, state.OfflineClaim{AOR: aor, Node: s.cfg.Node, Release: true}); err != nil {
		s.log.Debug("offline claim not released (it lapses)", "aor", aor, "error", err)
	}
}

// send delivers m down b's flow; true on a 2xx.
func (s *Service) send(ctx context.Context, b state.Binding, m state.OfflineMessage) bool {
	req, err := Request(b, m)
	if err != nil {
		s.log.Warn("offline message not deliverable", "aor", m.AOR, "id", m.ID, "error", err)
		return false
	}
	t, err := router.LocalTarget(b)
	if err != nil {
		s.log.Warn("offline message not deliverable", "aor", m.AOR, "id", m.ID, "error", err)
		return false
	}
	t.URI = req.Recipient
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	res, err := s.cfg.Send(sctx, req, t)
	if err != nil || res.StatusCode < 200 || res.StatusCode >= 300 {
		code := 0
		if res != nil {
			code = res.StatusCode
		}
		s.log.Info("offline message not delivered", "aor", m.AOR, "id", m.ID, "status", code, "error", err)
		return false
	}
	return true
}

// Request builds the MESSAGE that delivers m to binding b: its original
// From, To, Call-ID, Content-Type and body, and a Date header of the
// time it was stored.
func Request(b state.Binding, m state.OfflineMessage) (*sip.Request, error) {
	var ruri sip.Uri
	if err := sip.ParseUri(b.Contact, &ruri); err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.MESSAGE, ruri)
	from := &sip.FromHeader{Params: sip.NewParams()}
	if _, err := sip.ParseAddressValue(m.From, &from.Address, &from.Params); err != nil {
		return nil, err
	}
	to := &sip.ToHeader{Params: sip.NewParams()}
	if _, err := sip.ParseAddressValue(m.To, &to.Address, &to.Params); err != nil {
		return nil, err
	}
	req.AppendHeader(from)
	req.AppendHeader(to)
	cid := sip.CallIDHeader(m.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.MESSAGE})
	req.AppendHeader(sip.NewHeader("Date", time.Unix(0, m.Time).UTC().Format(http.TimeFormat)))
	if m.ContentType != "" {
		ct := sip.ContentTypeHeader(m.ContentType)
		req.AppendHeader(&ct)
	}
	req.SetBody(m.Body)
	return req, nil
}
