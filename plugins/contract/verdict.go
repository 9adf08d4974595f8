package contract

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Action is what an application decided.
type Action uint8

// Actions.
const (
	Continue Action = iota + 1 // next application, with changes
	Respond                    // answer Code Reason Headers
	Redirect                   // 3xx with Targets as contacts
	Proxy                      // forward to Targets[0]
	Fork                       // forward to Targets in turn until one succeeds
	Drop                       // no answer
)

// String names the action (metrics, logs).
func (a Action) String() string {
	switch a {
	case Continue:
		return "continue"
	case Respond:
		return "respond"
	case Redirect:
		return "redirect"
	case Proxy:
		return "proxy"
	case Fork:
		return "fork"
	case Drop:
		return "drop"
	}
	return "unknown"
}

// Verdict is a decoded, validated verdict.
type Verdict struct {
	Action Action
	// Continue (and Proxy, Fork): changes to the request.
	RemoveHeaders []string
	AddHeaders    []sip.Header
	RequestURI    *sip.Uri
	SetBody       bool
	Body          []byte
	ContentType   string
	// Respond, Redirect.
	Code    int
	Reason  string
	Headers []sip.Header
	// Redirect: contacts; Proxy, Fork: next hops.
	Targets []sip.Uri
	// Fork: each target's own changes, in the order of Targets (empty:
	// none), and the failover policy (nil: a failure goes to the next
	// target, the last one's answer to the caller). See fork.go.
	Branches []Branch
	Failover *Failover
	// WantResponse: the host wants the final response (Ticket names the
	// request to it).
	WantResponse bool
	Ticket       uint64
}

// RemoveHeaders removes every header called name, whatever the case it
// was written in (sipgo's RemoveHeader matches the name exactly as
// stored), and reports whether it removed any.
func RemoveHeaders(m interface {
	Headers() []sip.Header
	RemoveHeader(string) bool
}, name string) bool {
	var names []string // removing changes the list Headers returns
	for _, h := range m.Headers() {
		if n := h.Name(); strings.EqualFold(n, name) {
			names = append(names, n)
		}
	}
	removed := false
	for _, n := range names {
		for m.RemoveHeader(n) {
			removed = true
		}
	}
	return removed
}

// ApplyChanges makes a verdict's changes to req.
func ApplyChanges(req *sip.Request, v *Verdict) {
	for _, name := range v.RemoveHeaders {
		RemoveHeaders(req, name)
	}
	for _, h := range v.AddHeaders {
		req.AppendHeader(h)
	}
	if v.RequestURI != nil {
		req.Recipient = *v.RequestURI
	}
	if v.SetBody {
		req.SetBody(v.Body)
		RemoveHeaders(req, "Content-Type")
		if v.ContentType != "" && len(v.Body) > 0 {
			req.AppendHeader(sip.NewHeader("Content-Type", v.ContentType))
		}
	}
}
