package presence

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/siputil"
)

// subscribe handles SUBSCRIBE for presence and presence.winfo. It returns
// the response and, when accepted, the subscription to NOTIFY once it is
// out, with the reason that makes that NOTIFY final ("" for none).
func (a *Agent) subscribe(ctx context.Context, r Request) (*sip.Response, *state.Subscription, string) {
	req := r.Req
	exp, brief, ok := a.expires(req, time.Hour)
	if !ok {
		return siputil.Response(req, 400, "Bad Request (Expires)"), nil, ""
	}
	if brief {
		return siputil.Response(req, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(a.cfg.MinExpires/time.Second)))), nil, ""
	}
	if siputil.IsInitial(req) {
		return a.newSubscription(ctx, r, exp)
	}
	return a.refresh(ctx, r, exp)
}

func (a *Agent) newSubscription(ctx context.Context, r Request, exp int64) (*sip.Response, *state.Subscription, string) {
	req := r.Req
	target := siputil.AOR(req.Recipient)
	if !a.ours(target) {
		target = siputil.AOR(req.To().Address)
	}
	_, _, isList := listOf(target)
	isList = isList && a.ours(target)
	switch {
	case a.outside(target):
		// A gateway's address: served like a user's, with what the
		// gateway publishes for it.
	case isList:
		if res := a.listTarget(r, target); res != nil {
			return res, nil, ""
		}
	default:
		if u, ok := a.st.User(target); !ok || !u.Enabled {
			return siputil.Response(req, 404, "Not Found"), nil, ""
		}
	}
	ev, watcher := eventOf(req), identity(r)
	if ev == EventWinfo && watcher != target {
		return siputil.Response(req, 403, "Forbidden (watcher information is for its owner only)"), nil, ""
	}
	c := req.Contact()
	if c == nil {
		return siputil.Response(req, 400, "Bad Request (SUBSCRIBE without Contact)"), nil, ""
	}
	fromTag, _ := req.From().Params.Get("tag")
	sub := state.Subscription{
		Event: ev, Watcher: watcher, Target: target,
		CallID: string(*req.CallID()), FromTag: fromTag, ToTag: newTag(),
		RemoteURI: req.From().Address.String(), LocalURI: req.To().Address.String(),
		Contact: c.Address.String(), RouteSet: routeSet(req), Accept: accepts(req),
		Expires: a.now().Unix() + exp, Status: "active", List: isList,
		Transport: r.In.Network, Source: r.Source, Home: a.cfg.Node,
	}
	sub.ID = dialogID(sub.CallID, sub.FromTag, sub.ToTag)
	if ev == EventPresence && !isList && a.authorize(watcher, target) == pending {
		sub.Status = "pending"
	}
	if exp == 0 { // a fetch: one NOTIFY, nothing kept
		return a.accepted(r, sub, 0), &sub, "timeout"
	}
	if _, err := a.w.Write(ctx, state.CmdSubscriptionPut, state.SubscriptionPut{Sub: sub}); err != nil {
		a.log.Warn("subscription not committed", "target", target, "error", err)
		return siputil.Response(req, 503, "Service Unavailable", retryAfter("5")), nil, ""
	}
	return a.accepted(r, sub, exp), &sub, ""
}

// refresh handles an in-dialog SUBSCRIBE: a refresh or an unsubscribe.
func (a *Agent) refresh(ctx context.Context, r Request, exp int64) (*sip.Response, *state.Subscription, string) {
	req := r.Req
	fromTag, _ := req.From().Params.Get("tag")
	toTag, _ := req.To().Params.Get("tag")
	sub, ok := a.st.Subscription(dialogID(string(*req.CallID()), fromTag, toTag))
	if !ok || sub.Event != eventOf(req) {
		return siputil.Response(req, 481, "Subscription Does Not Exist"), nil, ""
	}
	if r.Identity != "" && r.Identity != sub.Watcher {
		return siputil.Response(req, 403, "Forbidden"), nil, ""
	}
	if exp == 0 {
		if _, err := a.w.Write(ctx, state.CmdSubscriptionDelete, state.SubscriptionDelete{IDs: []string{sub.ID}}); err != nil {
			return siputil.Response(req, 503, "Service Unavailable", retryAfter("5")), nil, ""
		}
		return a.accepted(r, sub, 0), &sub, "timeout"
	}
	sub.Expires = a.now().Unix() + exp
	sub.Transport, sub.Source, sub.Home = r.In.Network, r.Source, a.cfg.Node
	if c := req.Contact(); c != nil {
		sub.Contact = c.Address.String()
	}
	if _, err := a.w.Write(ctx, state.CmdSubscriptionPut, state.SubscriptionPut{Sub: sub}); err != nil {
		return siputil.Response(req, 503, "Service Unavailable", retryAfter("5")), nil, ""
	}
	return a.accepted(r, sub, exp), &sub, ""
}

// accepted builds the 200 for a SUBSCRIBE: our tag, our Contact, the
// granted expiry.
func (a *Agent) accepted(r Request, sub state.Subscription, exp int64) *sip.Response {
	res := siputil.Response(r.Req, 200, "OK", sip.NewHeader("Expires", strconv.FormatInt(exp, 10)))
	if to := res.To(); to != nil {
		to.Params.Remove("tag")
		to.Params.Add("tag", sub.ToTag)
	}
	res.AppendHeader(&sip.ContactHeader{Address: a.ownURI(r.In.Network)})
	if sub.List {
		res.AppendHeader(sip.NewHeader("Require", "eventlist"))
	}
	return res
}

func dialogID(callID, fromTag, toTag string) string {
	return callID + ";" + fromTag + ";" + toTag
}

// routeSet is the notifier's route set: the Record-Route of the
// SUBSCRIBE in order (RFC 3261 12.1.1).
func routeSet(req *sip.Request) []string {
	var out []string
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			out = append(out, rr.Address.String())
		}
	}
	return out
}

func accepts(req *sip.Request) []string {
	var out []string
	for _, h := range req.GetHeaders("Accept") {
		for _, v := range strings.Split(h.Value(), ",") {
			if v = strings.TrimSpace(strings.SplitN(v, ";", 2)[0]); v != "" {
				out = append(out, strings.ToLower(v))
			}
		}
	}
	return out
}
