package contract

import "github.com/emiago/sipgo/sip"

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
	// WantResponse: the host wants the final response (Ticket names the
	// request to it).
	WantResponse bool
	Ticket       uint64
}

// ApplyChanges makes a verdict's changes to req.
func ApplyChanges(req *sip.Request, v *Verdict) {
	for _, name := range v.RemoveHeaders {
		for req.RemoveHeader(name) {
		}
	}
	for _, h := range v.AddHeaders {
		req.AppendHeader(h)
	}
	if v.RequestURI != nil {
		req.Recipient = *v.RequestURI
	}
	if v.SetBody {
		req.SetBody(v.Body)
		for req.RemoveHeader("Content-Type") {
		}
		if v.ContentType != "" && len(v.Body) > 0 {
			req.AppendHeader(sip.NewHeader("Content-Type", v.ContentType))
		}
	}
}
