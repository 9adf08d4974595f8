package presence

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
)

// notifyTimeout bounds one NOTIFY transaction.
const notifyTimeout = 40 * time.Second

// notify sends the subscription's current state; a non-empty reason makes
// it the final NOTIFY (Subscription-State: terminated;reason=...). A
// watcher that answers 481 (or 404, 408, 410), whose NOTIFY times out, or
// that cannot be reached loses the subscription (RFC 6665 4.2.2), unless
// the failure is our own shutdown.
func (a *Agent) notify(ctx context.Context, sub state.Subscription, reason string) {
	req, err := a.buildNotify(sub, reason)
	if err != nil {
		a.log.Warn("notify not built", "sub", sub.ID, "error", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	res, err := a.px.Originate(ctx, req, a.targetOf(sub, req.Recipient))
	if a.stopping.Load() || ctx.Err() != nil {
		return // our own shutdown, not the watcher's fault
	}
	switch {
	case err != nil:
		a.log.Debug("notify failed", "sub", sub.ID, "watcher", sub.Watcher, "error", err)
	case res.StatusCode < 300:
		return
	default:
		a.log.Debug("notify refused", "sub", sub.ID, "status", res.StatusCode)
		if res.StatusCode != 481 && res.StatusCode != 404 && res.StatusCode != 410 && res.StatusCode != 408 {
			return
		}
	}
	if reason == "" {
		a.drop(sub.ID)
	}
}

// drop removes a subscription the watcher no longer has.
func (a *Agent) drop(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.w.Write(ctx, state.CmdSubscriptionDelete, state.SubscriptionDelete{IDs: []string{id}}); err != nil {
		a.log.Warn("subscription not removed", "sub", id, "error", err)
	}
}

// buildNotify makes the in-dialog NOTIFY of sub.
func (a *Agent) buildNotify(sub state.Subscription, reason string) (*sip.Request, error) {
	var contact sip.Uri
	if err := sip.ParseUri(sub.Contact, &contact); err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.NOTIFY, contact)
	for _, r := range sub.RouteSet {
		var u sip.Uri
		if err := sip.ParseUri(strings.Trim(r, "<>"), &u); err == nil {
			req.AppendHeader(&sip.RouteHeader{Address: u})
		}
	}
	var local, remote sip.Uri
	if err := sip.ParseUri(sub.LocalURI, &local); err != nil {
		return nil, err
	}
	if err := sip.ParseUri(sub.RemoteURI, &remote); err != nil {
		return nil, err
	}
	fp, tp := sip.NewParams(), sip.NewParams()
	fp.Add("tag", sub.ToTag)
	tp.Add("tag", sub.FromTag)
	req.AppendHeader(&sip.FromHeader{Address: local, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: remote, Params: tp})
	cid := sip.CallIDHeader(sub.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: a.nextCSeq(sub), MethodName: sip.NOTIFY})
	req.AppendHeader(sip.NewHeader("Event", sub.Event))
	req.AppendHeader(sip.NewHeader("Subscription-State", a.subState(sub, reason)))
	req.AppendHeader(&sip.ContactHeader{Address: a.ownURI(sub.Transport)})
	if (reason == "" && sub.Status == "pending") || reason == "rejected" {
		// Nothing to show yet, or ever: no body (RFC 6665 4.2.2 lets a
		// NOTIFY carry none).
		req.SetBody(nil)
		return req, nil
	}
	ctype, body := a.body(sub)
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody(body)
	return req, nil
}

func (a *Agent) subState(sub state.Subscription, reason string) string {
	if reason != "" {
		return "terminated;reason=" + reason
	}
	left := sub.Expires - a.now().Unix()
	if left < 0 {
		left = 0
	}
	return sub.Status + ";expires=" + strconv.FormatInt(left, 10)
}

// nextCSeq numbers NOTIFYs: hundredths of a second since the subscription
// began, so the count keeps growing across restarts without replicating
// every NOTIFY, and at least one more than the last one sent here.
func (a *Agent) nextCSeq(sub state.Subscription) uint32 {
	created := sub.Created
	if created == 0 { // not stored yet (a fresh dialog or a fetch): ask the state
		if s, ok := a.st.Subscription(trimWinfo(sub.ID)); ok {
			created = s.Created
		} else {
			created = a.now().UnixNano()
		}
	}
	ticks := (a.now().UnixNano() - created) / int64(10*time.Millisecond)
	n := uint32(max(ticks, 0)&0x3fffffff) + 1 // CSeq stays below 2**31 (RFC 3261 8.1.1.5)
	a.mu.Lock()
	defer a.mu.Unlock()
	if last := a.cseq[sub.ID]; n <= last {
		n = last + 1
	}
	a.cseq[sub.ID] = n
	return n
}

// targetOf sends a NOTIFY down the watcher's flow when this node holds it
// and the dialog has no proxies in between; otherwise by the route set or
// the watcher's contact.
func (a *Agent) targetOf(sub state.Subscription, uri sip.Uri) proxy.Target {
	t := proxy.Target{URI: uri}
	if len(sub.RouteSet) == 0 && sub.Home == a.cfg.Node && sub.Source != "" {
		t.Dest, t.Transport = sub.Source, sub.Transport
		return t
	}
	if len(sub.RouteSet) > 0 {
		var r sip.Uri
		if err := sip.ParseUri(strings.Trim(sub.RouteSet[0], "<>"), &r); err == nil {
			port := r.Port
			if port == 0 {
				port = 5060
			}
			t.Dest = net.JoinHostPort(r.Host, strconv.Itoa(port))
			if v, ok := r.UriParams.Get("transport"); ok {
				t.Transport = strings.ToUpper(v)
			}
		}
	}
	return t
}

// ownURI is this node's contact for a transport.
func (a *Agent) ownURI(network string) sip.Uri {
	l, err := a.ls.For(network)
	if err != nil {
		if l, err = a.ls.For("UDP"); err != nil {
			return sip.Uri{Scheme: "sip", Host: "127.0.0.1"}
		}
	}
	p := sip.NewParams()
	p.Add("transport", strings.ToLower(l.Network))
	return sip.Uri{Scheme: "sip", Host: l.Advertise, Port: l.Port, UriParams: p}
}
