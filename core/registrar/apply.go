package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/siputil"
)

// AsyncWriter is a state.Writer that can also commit without waiting
// (raftnode.Node.WriteAsync): done gets Write's result, exactly once,
// unless the write is refused at once with an error.
type AsyncWriter interface {
	WriteAsync(t state.CommandType, body any, deadline time.Time, done func(any, error)) error
}

// apply commits the plan and answers: one replicated write when any
// binding is new, changed or removed (refreshes of the same REGISTER ride
// along), local refreshes otherwise.
func (r *Registrar) apply(ctx context.Context, req *sip.Request, aor string, p plan, respond func(*sip.Response)) {
	if !p.removeAll && len(p.upsert) == 0 && len(p.remove) == 0 {
		for _, f := range p.refresh {
			r.loc.Refresh(aor, f.b, f.cseq, f.expires)
		}
		respond(r.ok(req, aor))
		return
	}
	up := state.BindingUpdate{AOR: aor, Upsert: p.upsert, Remove: p.remove, RemoveAll: p.removeAll}
	for _, f := range p.refresh {
		b := f.b
		b.CSeq, b.Expires = f.cseq, f.expires
		up.Upsert = append(up.Upsert, b)
	}
	if aw, ok := r.w.(AsyncWriter); ok {
		err := aw.WriteAsync(state.CmdBindingUpdate, up, time.Now().Add(writeTimeout), func(_ any, err error) {
			respond(r.committed(req, up, err))
		})
		if err != nil {
			respond(r.committed(req, up, err))
		}
		return
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	_, err := r.w.Write(wctx, state.CmdBindingUpdate, up)
	cancel()
	respond(r.committed(req, up, err))
}

// committed answers a REGISTER whose write up ended with err: 200 with
// the bindings now current, or why not.
func (r *Registrar) committed(req *sip.Request, up state.BindingUpdate, err error) *sip.Response {
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrWrite, err)
		level := slog.LevelWarn
		if errors.Is(err, raftnode.ErrBusy) {
			level = slog.LevelDebug // overload: one line per refused REGISTER would flood the log
		}
		r.log.Log(context.Background(), level, "registration not committed", "aor", up.AOR, "error", err)
		return writeFailed(req, err)
	}
	for _, b := range up.Upsert {
		r.loc.Forget(up.AOR, b.Key())
	}
	for _, k := range up.Remove {
		r.loc.Forget(up.AOR, k)
	}
	return r.ok(req, up.AOR)
}

// writeTimeout bounds how long a REGISTER waits for its write to commit;
// well inside the client's transaction timeout, so it hears why.
const writeTimeout = 5 * time.Second

// writeFailed maps a write that did not commit to the answer, in one
// place. No leader, no quorum (this node is in a minority partition, or
// an election is running), a closing node or a timeout are temporary:
// 503 with Retry-After, so the client retries (perhaps at another node).
// A write the state refused is a bug or bad input: 500.
func writeFailed(req *sip.Request, err error) *sip.Response {
	switch {
	case errors.Is(err, raftnode.ErrNotLeader), errors.Is(err, raftnode.ErrNoQuorum),
		errors.Is(err, raftnode.ErrNotReady), errors.Is(err, raftnode.ErrClosed), errors.Is(err, raftnode.ErrBusy),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return siputil.Response(req, 503, "Service Unavailable (registration store unavailable)", retryAfter(5))
	}
	return siputil.Response(req, 500, "Server Internal Error (registration not stored)")
}

// ok answers 200 with every current binding and its remaining time. The
// Contact values are written from the stored contact URIs (the form
// sip.Uri.String gave at registration) instead of parsing each again.
func (r *Registrar) ok(req *sip.Request, aor string) *sip.Response {
	res := siputil.Response(req, 200, "OK")
	now := r.now()
	nowS := now.Unix()
	var b strings.Builder
	for _, x := range r.loc.Current(aor) {
		b.Reset()
		b.Grow(len(x.Contact) + len(x.Instance) + 48)
		b.WriteByte('<')
		b.WriteString(x.Contact)
		b.WriteString(">;expires=")
		b.WriteString(strconv.FormatInt(x.Expires-nowS, 10))
		if x.Q != 1000 {
			b.WriteString(";q=")
			b.WriteString(strconv.FormatFloat(float64(x.Q)/1000, 'f', -1, 64))
		}
		if x.Instance != "" {
			b.WriteString(`;+sip.instance="<`)
			b.WriteString(x.Instance)
			b.WriteString(`>"`)
			if x.RegID != 0 {
				b.WriteString(";reg-id=")
				b.WriteString(strconv.Itoa(x.RegID))
			}
		}
		res.AppendHeader(sip.NewHeader("Contact", b.String()))
	}
	res.AppendHeader(sip.NewHeader("Date", httpDate(now)))
	return res
}

// httpDate formats t for the Date header, once per second.
func httpDate(t time.Time) string {
	sec := t.Unix()
	if d := lastDate.Load(); d != nil && d.sec == sec {
		return d.text
	}
	d := &dateText{sec: sec, text: t.UTC().Format(http.TimeFormat)}
	lastDate.Store(d)
	return d.text
}

type dateText struct {
	sec  int64
	text string
}

var lastDate atomic.Pointer[dateText]
