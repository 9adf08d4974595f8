package registrar

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/siputil"
)

// apply commits the plan: one replicated write when any binding is new,
// changed or removed (refreshes of the same REGISTER ride along), local
// refreshes otherwise.
func (r *Registrar) apply(ctx context.Context, aor string, p plan) error {
	if !p.removeAll && len(p.upsert) == 0 && len(p.remove) == 0 {
		for _, f := range p.refresh {
			r.loc.Refresh(aor, f.b, f.cseq, f.expires)
		}
		return nil
	}
	up := state.BindingUpdate{AOR: aor, Upsert: p.upsert, Remove: p.remove, RemoveAll: p.removeAll}
	for _, f := range p.refresh {
		b := f.b
		b.CSeq, b.Expires = f.cseq, f.expires
		up.Upsert = append(up.Upsert, b)
	}
	if _, err := r.w.Write(ctx, state.CmdBindingUpdate, up); err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	for _, b := range up.Upsert {
		r.loc.Forget(aor, b.Key())
	}
	for _, k := range up.Remove {
		r.loc.Forget(aor, k)
	}
	return nil
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
		errors.Is(err, raftnode.ErrNotReady), errors.Is(err, raftnode.ErrClosed),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return siputil.Response(req, 503, "Service Unavailable (registration store unavailable)", retryAfter(5))
	}
	return siputil.Response(req, 500, "Server Internal Error (registration not stored)")
}

// ok answers 200 with every current binding and its remaining time.
func (r *Registrar) ok(req *sip.Request, aor string) *sip.Response {
	res := siputil.Response(req, 200, "OK")
	nowS := r.now().Unix()
	for _, b := range r.loc.Current(aor) {
		uri := sip.Uri{}
		if err := sip.ParseUri(b.Contact, &uri); err != nil {
			continue
		}
		c := &sip.ContactHeader{Address: uri, Params: sip.NewParams()}
		c.Params.Add("expires", strconv.FormatInt(b.Expires-nowS, 10))
		if b.Q != 1000 {
			c.Params.Add("q", strconv.FormatFloat(float64(b.Q)/1000, 'f', -1, 64))
		}
		if b.Instance != "" {
			c.Params.Add("+sip.instance", `"<`+b.Instance+`>"`)
			if b.RegID != 0 {
				c.Params.Add("reg-id", strconv.Itoa(b.RegID))
			}
		}
		res.AppendHeader(c)
	}
	res.AppendHeader(sip.NewHeader("Date", r.now().UTC().Format(http.TimeFormat)))
	return res
}
