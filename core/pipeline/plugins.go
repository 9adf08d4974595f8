package pipeline

import (
	"context"
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/staticroute"
)

// Plugin applications (kind "plugin") run outside the node; the pipeline
// hands them requests through a PluginHost (plugins/host implements it)
// and applies the verdict they return.

// PluginHost runs the plugin entries of the chain.
type PluginHost interface {
	// Handle hands req to the plugin behind chain entry app and waits for
	// its verdict. It returns ErrPluginDown, ErrPluginBusy,
	// ErrPluginTimeout or another error for a verdict it could not use.
	Handle(ctx context.Context, app string, req *PluginRequest) (PluginVerdict, error)
	// Response gives the plugin the final response to a request whose
	// verdict asked for it (PluginVerdict.WantResponse).
	Response(app string, ticket uint64, res *sip.Response)
	// Claims returns the address patterns the running plugin claimed
	// (Describe), besides those of its chain entry.
	Claims(app string) []string
}

// Errors a PluginHost reports; the chain answers or skips by them.
var (
	// ErrPluginDown: the plugin is not running (starting, crashed,
	// singleton active on another node).
	ErrPluginDown = errors.New("plugin: not running")
	// ErrPluginBusy: the plugin's queue is full.
	ErrPluginBusy = errors.New("plugin: queue full")
	// ErrPluginTimeout: the plugin held the request past its deadline.
	ErrPluginTimeout = errors.New("plugin: no verdict in time")
)

// PluginRequest is what a plugin sees of a request.
type PluginRequest struct {
	Req          *sip.Request
	Source       string // remote host:port
	Transport    string // listener network
	Identity     string // authenticated AOR
	Trusted      bool
	StrictRouted bool
}

// PluginAction is what a plugin decided.
type PluginAction uint8

// Plugin actions.
const (
	PluginContinue PluginAction = iota + 1 // next application, with changes
	PluginRespond                          // answer Code Reason Headers
	PluginRedirect                         // 3xx with Targets as contacts
	PluginProxy                            // forward to Targets[0]
	PluginFork                             // forward to Targets in turn until one succeeds
	PluginDrop                             // no answer
)

// PluginVerdict is a decoded, validated plugin verdict.
type PluginVerdict struct {
	Action PluginAction
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
	// WantResponse: call PluginHost.Response with Ticket and the final
	// response.
	WantResponse bool
	Ticket       uint64
}

// ApplyChanges makes a continue verdict's changes to req.
func ApplyChanges(req *sip.Request, v *PluginVerdict) {
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

// MatchClaim reports whether a Request-URI matches a claim pattern:
// "*@xmpp.example.net" (user@host, any scheme of sip/sips), "tel:+1*"
// (a tel: number prefix), "sip:+1*@*" (scheme, user and host patterns).
// A "*" matches any run of characters; matching ignores case.
func MatchClaim(pattern string, u sip.Uri) bool {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		scheme = "sip"
	}
	if ps, rest, ok := strings.Cut(pattern, ":"); ok && (ps == "sip" || ps == "sips" || ps == "tel") {
		if ps != scheme {
			return false
		}
		pattern = rest
	} else if scheme == "tel" {
		return false // a bare user@host pattern is about sip URIs
	}
	if scheme == "tel" {
		return glob(pattern, staticroute.PhoneNumber(u))
	}
	pu, ph, ok := strings.Cut(pattern, "@")
	if !ok { // a host alone
		pu, ph = "*", pu
	}
	return glob(pu, strings.ToLower(u.User)) && glob(ph, strings.ToLower(u.Host))
}

// glob matches s against a pattern where '*' is any run of characters.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// HopTarget is where a request for ruri goes when sent to next hop hop
// (a plugin's proxy target or a request a plugin originates).
func HopTarget(ruri, hop sip.Uri) proxy.Target { return hopTarget(ruri, hop) }
