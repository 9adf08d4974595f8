package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// Reading a plugin's stream in the waiting goroutine.
//
// With a reader goroutine, every verdict crosses a goroutine switch: the
// reader wakes, hands the verdict over a channel and the waiting
// goroutine wakes in turn, and the Go scheduler wakes a second thread to
// run it. On a busy two-core machine that doubles the hop. So for a
// stream that can bound its Recv in time (the hop socket) there is no
// reader goroutine: a goroutine waiting for a verdict takes the run's
// lead token and reads the stream itself until its own verdict comes,
// handing the others theirs on the way. With one request in flight the
// verdict reaches the goroutine that waits for it straight from the
// socket. When it leaves with other requests still pending (under
// load), the token goes to a reader goroutine that reads on until none
// is pending, as the classic reader would: then each verdict costs one
// hand-off, not two (a verdict and then the token). Otherwise the token
// goes back for the next waiter; nothing is read while nobody waits,
// and nothing is lost meanwhile, as unread verdicts wait in the socket.

// errLeadTimeout: the lead's own request reached its lifetime.
var errLeadTimeout = errors.New("host: no verdict within the transaction lifetime")

// readFor reads r's stream, holding its lead token, until the verdict for
// the request whose channel is ch arrives, the request's deadline passes
// (errLeadTimeout), ctx ends or the stream breaks (the run is then
// ended: ok is false). It gives the token back when it returns.
func (p *plugin) readFor(ctx context.Context, r *running, ch chan *pb.Verdict, deadline time.Time) (v *pb.Verdict, ok bool, err error) {
	defer p.handOn(r)
	ds := r.stream.(sdk.DeadlineStream)
	if !p.setDeadline(r, ds, deadline) {
		return nil, false, nil
	}
	// ctx ending interrupts the Recv through the deadline.
	stop := context.AfterFunc(ctx, func() { _ = ds.SetRecvDeadline(time.Now()) })
	defer stop()
	for {
		select {
		case v, ok := <-ch: // delivered by an earlier lead, or by us below
			return v, ok, nil
		default:
		}
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		if !time.Now().Before(deadline) {
			return nil, false, errLeadTimeout
		}
		m, timeout, ok := p.recv(r, ds)
		switch {
		case !ok:
			return nil, false, nil
		case timeout:
			// Ours, or one an earlier lead's ctx set late: look again
			// (the checks above first, so a ctx that ended is seen).
			if !p.setDeadline(r, ds, deadline) {
				return nil, false, nil
			}
		default:
			p.deliver(r, m)
		}
	}
}

// handOn passes the lead token on as its holder leaves: to a reader
// goroutine while requests are pending, else back for the next waiter.
func (p *plugin) handOn(r *running) {
	if p.pending(r) == 0 {
		r.lead <- struct{}{}
		return
	}
	go p.readOn(r)
}

// readOn reads r's stream, holding its lead token, while requests are
// pending, then gives the token back.
func (p *plugin) readOn(r *running) {
	defer func() { r.lead <- struct{}{} }()
	ds := r.stream.(sdk.DeadlineStream)
	for p.pending(r) > 0 {
		// No deadline: the waiters keep their own time; one a waiter's
		// ctx set late just makes this loop look again.
		if !p.setDeadline(r, ds, time.Time{}) {
			return
		}
		m, timeout, ok := p.recv(r, ds)
		if !ok {
			return
		}
		if !timeout {
			p.deliver(r, m)
		}
	}
}

// recv reads one message from r's stream. timeout says a read deadline
// cut it short (the stream stays usable); ok false says the stream broke,
// and the run is ended.
func (p *plugin) recv(r *running, ds sdk.DeadlineStream) (m *pb.PluginMessage, timeout, ok bool) {
	m, err := ds.Recv()
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, true, true
	case err != nil:
		p.fail(r, err)
		return nil, false, false
	}
	return m, false, true
}

// setDeadline bounds the next reads of r's stream (zero: no bound); false
// means it could not, and the run is ended.
func (p *plugin) setDeadline(r *running, ds sdk.DeadlineStream, t time.Time) bool {
	if err := ds.SetRecvDeadline(t); err != nil {
		p.fail(r, fmt.Errorf("host: stream deadline: %w", err))
		return false
	}
	return true
}

func (p *plugin) pending(r *running) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(r.pending)
}

// fail ends run r for err, the first reason kept.
func (p *plugin) fail(r *running, err error) {
	p.mu.Lock()
	if r.failed == nil {
		r.failed = err
	}
	p.mu.Unlock()
	r.end()
}
