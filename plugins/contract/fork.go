package contract

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// Branch is one Fork target's own changes, made on its copy of the
// request after the verdict's (a trunk's number format in the
// Request-URI, P-Asserted-Identity, Privacy), under the change rules.
// Verdict.Branches lists them in the order of Targets.
type Branch struct {
	RequestURI    *sip.Uri
	RemoveHeaders []string
	AddHeaders    []sip.Header
	// Failover is this target's policy instead of the verdict's.
	Failover *Failover
}

// Failover is a serial fork's failover policy (Verdict.Failover, or a
// Branch's): a final response whose code is in Next goes to the next
// target, any other failure stops the fork; no provisional response
// other than 100 within Timer (0: none) and the target is cancelled and
// the next tried; a failure after early media (a 18x with a body) stops
// unless OnEarlyMedia. When every target failed the caller gets the
// best final response (RFC 3261 16.7), a 503 never passed on (480 with
// Retry-After, else 500), 408 when none answered.
type Failover struct {
	Next         []int
	Timer        time.Duration
	OnEarlyMedia bool
}

// Limits of a failover policy.
const (
	MaxFailoverTimer = 5 * time.Minute
	MaxFailoverCodes = 32
)

// ApplyBranch makes a branch's changes to its copy of the request.
func ApplyBranch(req *sip.Request, b *Branch) {
	ApplyChanges(req, &Verdict{RemoveHeaders: b.RemoveHeaders, AddHeaders: b.AddHeaders, RequestURI: b.RequestURI})
}
