package host

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/codec"
	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// handle sends one request to the plugin and waits for its verdict, at
// most the transaction lifetime.
func (p *plugin) handle(ctx context.Context, req *contract.Request) (contract.Verdict, error) {
	var none contract.Verdict
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		p.wasDown()
		return none, contract.ErrPluginDown
	}
	if ms := r.desc.GetMethods(); len(ms) > 0 && !hasFold(ms, string(req.Req.Method)) {
		return contract.Verdict{Action: contract.Continue}, nil
	}
	select {
	case p.queue <- struct{}{}:
	default:
		p.m.full.Inc()
		return none, contract.ErrPluginBusy
	}
	defer func() { <-p.queue }()

	ch := make(chan *pb.Verdict, 1)
	p.mu.Lock()
	if r.pending == nil { // went down meanwhile
		p.mu.Unlock()
		p.m.down.Inc()
		return none, contract.ErrPluginDown
	}
	p.nextID++
	id := p.nextID
	r.pending[id] = ch
	p.mu.Unlock()

	// A plugin that stopped reading (stopped, not dead) blocks the send;
	// if it blocks for a whole transaction lifetime the run is ended,
	// which fails the send and restarts the plugin.
	msg := &pb.HostMessage{Kind: &pb.HostMessage_Request{Request: codec.EncodeRequest(id, req)}}
	watchdog := time.AfterFunc(p.h.cfg.TxLifetime, func() {
		p.log.Error("plugin stopped reading its stream: restarting it")
		r.end()
	})
	sent := time.Now()
	err := r.send(msg)
	watchdog.Stop()
	if err != nil {
		p.forget(r, id)
		p.m.down.Inc()
		return none, contract.ErrPluginDown
	}
	p.m.requests.Inc()
	deadline := time.Now().Add(p.h.cfg.TxLifetime)
	t := time.NewTimer(p.h.cfg.TxLifetime)
	defer t.Stop()
	var (
		v  *pb.Verdict
		ok bool
	)
	select {
	case v, ok = <-ch:
	case <-r.lead: // nil unless this goroutine may read the stream itself
		var err error
		v, ok, err = p.readFor(ctx, r, ch, deadline)
		switch {
		case errors.Is(err, errLeadTimeout):
			return none, p.timedOut(r, id, req)
		case err != nil:
			p.giveUp(r, id)
			return none, err
		}
	case <-t.C:
		return none, p.timedOut(r, id, req)
	case <-ctx.Done():
		p.giveUp(r, id)
		return none, ctx.Err()
	}
	if !ok {
		p.m.down.Inc()
		return none, contract.ErrPluginDown // died holding it
	}
	out, err := codec.DecodeVerdict(v)
	if err != nil {
		p.m.garbage.Inc()
		p.log.Warn("plugin returned an unusable verdict", "error", err)
		return none, err
	}
	p.m.verdict(out.Action, sent)
	switch out.Action {
	case contract.Continue, contract.Proxy, contract.Fork:
		out.WantResponse, out.Ticket = r.desc.GetWantsResponses(), id
	}
	return out, nil
}

// timedOut gives up on request id, which the plugin held past the
// transaction lifetime.
func (p *plugin) timedOut(r *running, id uint64, req *contract.Request) error {
	p.m.timeout.Inc()
	p.giveUp(r, id)
	p.log.Warn("plugin held a request past the transaction lifetime", "method", req.Req.Method, "call_id", callID(req.Req))
	p.stuck(r)
	return contract.ErrPluginTimeout
}

// stuck counts a request given up on; after maxStuck in a row with no
// verdict between, the plugin is taken for hung: its run ends (the
// process is killed) and the supervisor starts it again.
func (p *plugin) stuck(r *running) {
	p.mu.Lock()
	r.stuck++
	hung := r.stuck >= maxStuck
	p.mu.Unlock()
	if hung {
		p.log.Error("plugin hung: restarting it", "requests_given_up", maxStuck)
		r.end()
	}
}

// giveUp forgets request id and tells the plugin to stop working on it.
func (p *plugin) giveUp(r *running, id uint64) {
	p.forget(r, id)
	go func() { _ = r.send(&pb.HostMessage{Kind: &pb.HostMessage_Cancel{Cancel: &pb.Cancel{Id: id}}}) }()
}

func (p *plugin) forget(r *running, id uint64) {
	p.mu.Lock()
	if r.pending != nil {
		delete(r.pending, id)
	}
	p.mu.Unlock()
}

// response hands the plugin a final response it asked for.
func (p *plugin) response(id uint64, res *sip.Response) {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil || !r.desc.GetWantsResponses() {
		return
	}
	m := &pb.HostMessage{Kind: &pb.HostMessage_Response{Response: codec.EncodeResponse(id, res)}}
	go func() { // never hold up the transaction for a slow plugin
		if err := r.send(m); err != nil {
			p.log.Debug("response not handed to plugin", "error", err)
		}
	}()
}

func (r *running) send(m *pb.HostMessage) error {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	return r.stream.Send(m)
}

func hasFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
