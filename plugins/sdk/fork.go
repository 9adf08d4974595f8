package sdk

import (
	"time"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// Branch is one target of ForkBranches: where the copy goes (Target,
// the next hop) and that copy's own changes.
type Branch struct {
	Target     string
	RequestURI string   // "" keeps the request's
	Headers    []string // headers to add: name, value pairs
	Remove     []string // headers to remove
	Failover   *Failover
}

// Failover is a serial fork's failover policy (contract.Failover): the
// final codes that go to the next target (any other failure stops the
// fork), the fast-failover timer (no provisional other than 100 within
// it: cancelled, next target; 0: none) and whether a failure after
// early media may still go on.
type Failover struct {
	Next         []int
	Timer        time.Duration
	OnEarlyMedia bool
}

// ForkBranches forwards the request to each branch's target in turn,
// each copy with its own changes. A node from before branches forks
// with the verdict's changes alone.
func ForkBranches(bs ...Branch) Verdict {
	v := &pb.Verdict{Action: pb.Action_ACTION_FORK}
	for _, b := range bs {
		v.Targets = append(v.Targets, b.Target)
		v.Branches = append(v.Branches, &pb.Branch{RequestUri: b.RequestURI, AddHeaders: pairs(b.Headers),
			RemoveHeaders: b.Remove, Failover: b.Failover.proto()})
	}
	return Verdict{v}
}

// WithFailover sets a Fork's failover policy (for the branches without
// their own).
func (v Verdict) WithFailover(f Failover) Verdict {
	v.v.Failover = f.proto()
	return v
}

func (f *Failover) proto() *pb.Failover {
	if f == nil {
		return nil
	}
	out := &pb.Failover{TimerMs: f.Timer.Milliseconds(), OnEarlyMedia: f.OnEarlyMedia}
	for _, c := range f.Next {
		out.NextCodes = append(out.NextCodes, int32(c))
	}
	return out
}
