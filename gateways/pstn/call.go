package pstn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/contract"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// Which requests are phone calls (README, Claims): a tel: URI, a SIP
// URI with user=phone, or a SIP URI of one of our domains whose user
// part is a dialled string (baresip dials sip:912065550100@domain) and
// names no user of ours: numeric user names are never shadowed. The
// last check asks the node (Host.Bindings: Known), so the entry may sit
// before the router in the chain; the router would answer 404 for an
// unknown user and end the chain before an entry after it.

// handle routes one INVITE.
func (a *adapter) handle(ctx context.Context, req *sdk.Request) sdk.Verdict {
	if req.Method != sip.INVITE {
		return sdk.Continue()
	}
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			return sdk.Continue() // in-dialog: follows its Record-Route
		}
	}
	if req.Route() != nil {
		return sdk.Continue() // routed by someone else: not ours to decide
	}
	cur := a.plan.Load() // this call's plan, whatever comes later
	if cur == nil {
		return sdk.Continue() // no document: the core's static routes
	}
	u := req.Recipient
	if !a.isPhone(ctx, u) {
		return sdk.Continue()
	}
	caller := callerOf(req)
	dialled := u.String()
	n, err := cur.plan.Normalize(caller, dialled)
	if err != nil {
		return refuse(err, "normalize")
	}
	if n.Extension {
		// An internal extension is a user of ours: back to the core's
		// user lookup (the router) as sip:EXT@our domain.
		ext := sip.Uri{Scheme: "sip", User: n.Number, Host: a.domain(u)}
		return sdk.Continue().SetRequestURI(ext.String())
	}
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	d, err := cur.plan.Decide(caller, n.Number, callID, nil)
	if err != nil {
		return refuse(err, "route")
	}
	bs := make([]sdk.Branch, 0, len(d.Gateways))
	for _, g := range d.Gateways {
		bs = append(bs, branch(g))
	}
	a.log.Debug("routed", "call_id", callID, "caller", caller, "number", n.Number, "version", cur.version, "gateways", len(bs))
	return sdk.ForkBranches(bs...)
}

// branch is one gateway's copy: its Request-URI, caller ID, policy.
func branch(g Choice) sdk.Branch {
	b := sdk.Branch{Target: g.NextHop(), RequestURI: g.RequestURI(),
		// RFC 3325: an identity the caller asserted never goes on; ours
		// goes only to a trusted trunk that asks for it.
		Remove: []string{"P-Asserted-Identity", "P-Preferred-Identity"}}
	if g.AssertIdentity() && g.Calling != "" {
		b.Headers = append(b.Headers, "P-Asserted-Identity", "<"+g.callingURI()+">")
	}
	switch g.Privacy() {
	case PrivacyID:
		b.Remove = append(b.Remove, "Privacy")
		b.Headers = append(b.Headers, "Privacy", "id")
	case PrivacyNone:
		b.Remove = append(b.Remove, "Privacy")
	}
	p := g.Failover()
	b.Failover = &sdk.Failover{Next: FailoverCodes, Timer: p.Timer, OnEarlyMedia: p.OnEarlyMedia}
	return b
}

// callingURI is the caller's number as the trunk wants it, as a URI:
// tel: for an E.164 number, else a user=phone SIP URI at the trunk.
func (c Choice) callingURI() string {
	if strings.HasPrefix(c.Calling, "+") {
		return "tel:" + c.Calling
	}
	ru := c.RequestURI()
	at := strings.IndexByte(ru, '@')
	return ru[:strings.IndexByte(ru, ':')+1] + c.Calling + ru[at:]
}

// refuse answers a call the plan will not route, the reason naming the
// step (README, Claims).
func refuse(err error, step string) sdk.Verdict {
	code := 404
	switch {
	case errors.Is(err, ErrUnknownUser), errors.Is(err, ErrBlocked):
		code = 403
	case errors.Is(err, ErrNoGateway):
		code = 503
	}
	reason := contract.Reason(code)
	return sdk.Respond(code, fmt.Sprintf("%s (%s: %s)", reason, step, cause(err)), "Reason", fmt.Sprintf(`SIP;cause=%d;text="pstn %s: %s"`, code, step, cause(err)))
}

// cause is the call-time outcome an error wraps, for a reason phrase.
func cause(err error) string {
	for _, c := range []error{ErrNotANumber, ErrNoRule, ErrUnknownUser, ErrBlocked, ErrNoRoute, ErrNoGateway} {
		if errors.Is(err, c) {
			return c.Error()
		}
	}
	return "refused"
}

// isPhone says whether u is a phone call (see the top of the file).
func (a *adapter) isPhone(ctx context.Context, u sip.Uri) bool {
	switch {
	case u.Scheme == "tel":
		return true
	case u.Scheme != "sip" && u.Scheme != "sips":
		return false
	case !a.ours(u.Host):
		return u.UriParams.GetOr("user", "") == "phone" // a number at another host: ours to route
	case !dialString(u.User):
		return false
	}
	b, err := a.host.Bindings(ctx, u.User+"@"+strings.ToLower(u.Host))
	if err != nil {
		a.log.Warn("user lookup failed; the call goes on as a user call", "user", u.User, "error", err)
		return false
	}
	return !b.Known
}

// dialString: digits, '+', '*', '#' and visual separators, with a digit.
func dialString(s string) bool {
	digit := false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case strings.ContainsRune("+*#-.()", c):
		default:
			return false
		}
	}
	return digit
}

func (a *adapter) ours(host string) bool {
	for _, d := range a.domains {
		if strings.EqualFold(d, host) {
			return true
		}
	}
	return false
}

// domain is the request's host when it is ours, else our first domain.
func (a *adapter) domain(u sip.Uri) string {
	if a.ours(u.Host) || len(a.domains) == 0 {
		return u.Host
	}
	return a.domains[0]
}

// callerOf is the caller's address of record: the authenticated
// identity, else (a trusted peer) the From URI's user@host.
func callerOf(req *sdk.Request) string {
	if req.Identity != "" {
		return strings.ToLower(req.Identity)
	}
	if f := req.From(); f != nil {
		return strings.ToLower(f.Address.User + "@" + f.Address.Host)
	}
	return ""
}
