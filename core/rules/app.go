package rules

import (
	"context"
	"log/slog"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/plugins/contract"
)

// App is a rules application (chain entry of kind "rules"): it evaluates
// its compiled Set over each request and turns the actions into one
// verdict. respond, redirect and route end the evaluation of actions;
// header changes before them are carried by the verdict (and applied
// when it continues or routes); log actions are logged as they come.
type App struct {
	name     string
	set      *Set
	critical bool
	log      *slog.Logger
}

var _ chain.App = (*App)(nil)

// NewApp returns the application of chain entry name evaluating set.
// critical: a rule that fails to evaluate answers 503 instead of letting
// the request through.
func NewApp(name string, set *Set, critical bool, log *slog.Logger) *App {
	if log == nil {
		log = slog.Default()
	}
	return &App{name: name, set: set, critical: critical, log: log}
}

// Name is the chain entry's name (chain.App).
func (a *App) Name() string { return a.name }

// Handle evaluates the rules over r (chain.App). It never returns an
// error: a failing rule is logged and, for a critical entry, answered
// 503 here.
func (a *App) Handle(_ context.Context, r *chain.Request) (chain.Verdict, error) {
	req := r.Req
	res, err := a.set.Evaluate(MessageOf(&r.Request))
	if err != nil {
		a.log.Warn("rule failed", "app", a.name, "error", err)
		if a.critical {
			return chain.Respond(503, "Service Unavailable", sip.NewHeader("Retry-After", "5")), nil
		}
	}
	v := chain.Continue()
	for _, act := range res.Actions {
		switch act.Kind {
		case "respond":
			v.Action, v.Code, v.Reason = contract.Respond, act.Code, act.Reason
			return v, nil
		case "redirect":
			v.Action, v.Code, v.Reason = contract.Redirect, 302, "Moved Temporarily"
			v.Headers = []sip.Header{sip.NewHeader("Contact", "<"+act.Target+">")}
			return v, nil
		case "route":
			var hop sip.Uri
			if err := sip.ParseUri(act.Target, &hop); err != nil {
				return chain.Respond(500, "Server Internal Error (bad rule target)"), nil
			}
			v.Action, v.Targets, v.NextHop = contract.Proxy, []sip.Uri{hop}, true
			return v, nil
		case "add-header":
			v.AddHeaders = append(v.AddHeaders, sip.NewHeader(act.Header, act.Value))
		case "remove-header":
			// In order: a header this rule set added before is removed too.
			kept := v.AddHeaders[:0]
			for _, h := range v.AddHeaders {
				if h.Name() != act.Header {
					kept = append(kept, h)
				}
			}
			v.AddHeaders = kept
			v.RemoveHeaders = append(v.RemoveHeaders, act.Header)
		case "log":
			a.log.Info("rule", "app", a.name, "message", act.Message, "method", req.Method, "from", siputil.AOR(req.From().Address), "ruri", req.Recipient.String())
		}
	}
	return v, nil
}

// MessageOf is the view of a request a rule sees.
func MessageOf(r *contract.Request) *Message {
	req := r.Req
	m := &Message{
		Method: string(req.Method), RURI: req.Recipient.String(),
		From: req.From().Address.String(), To: req.To().Address.String(),
		FromUser: req.From().Address.User, FromHost: req.From().Address.Host,
		ToUser: req.To().Address.User, ToHost: req.To().Address.Host,
		Body: string(req.Body()), Source: r.Source, Transport: r.Transport,
		Trusted: r.Trusted, StrictRouted: r.StrictRouted, Headers: make(map[string][]string),
	}
	if ct := req.ContentType(); ct != nil {
		m.ContentType = ct.Value()
	}
	for _, h := range req.Headers() {
		k := strings.ToLower(h.Name())
		m.Headers[k] = append(m.Headers[k], h.Value())
	}
	return m
}
