package codec

import (
	"fmt"
	"time"

	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// decodeFork checks a Fork verdict's branches (none, or one per target)
// and failover policies under the change rules.
func decodeFork(v *pb.Verdict, out *contract.Verdict) error {
	if bs := v.GetBranches(); len(bs) > 0 {
		if len(bs) != len(out.Targets) {
			return fmt.Errorf("%w: %d branches for %d targets", ErrBadMessage, len(bs), len(out.Targets))
		}
		out.Branches = make([]contract.Branch, len(bs))
		for i, b := range bs {
			if err := decodeBranch(b, &out.Branches[i]); err != nil {
				return fmt.Errorf("branch %d: %w", i, err)
			}
		}
	}
	f, err := failover(v.GetFailover())
	out.Failover = f
	return err
}

func decodeBranch(b *pb.Branch, out *contract.Branch) error {
	if len(b.GetRemoveHeaders()) > contract.MaxHeaders {
		return fmt.Errorf("%w: %d header removals", ErrBadMessage, len(b.GetRemoveHeaders()))
	}
	for _, name := range b.GetRemoveHeaders() {
		if err := headerName(name); err != nil {
			return err
		}
		out.RemoveHeaders = append(out.RemoveHeaders, name)
	}
	hs, err := headers(b.GetAddHeaders())
	if err != nil {
		return err
	}
	out.AddHeaders = hs
	if s := b.GetRequestUri(); s != "" {
		u, err := uri(s)
		if err != nil {
			return err
		}
		out.RequestURI = &u
	}
	out.Failover, err = failover(b.GetFailover())
	return err
}

// failover checks a policy: codes 300-699, a timer within bounds.
func failover(f *pb.Failover) (*contract.Failover, error) {
	if f == nil {
		return nil, nil
	}
	if len(f.GetNextCodes()) > contract.MaxFailoverCodes {
		return nil, fmt.Errorf("%w: %d failover codes", ErrBadMessage, len(f.GetNextCodes()))
	}
	out := &contract.Failover{OnEarlyMedia: f.GetOnEarlyMedia()}
	for _, c := range f.GetNextCodes() {
		if c < 300 || c > 699 {
			return nil, fmt.Errorf("%w: failover code %d", ErrBadMessage, c)
		}
		out.Next = append(out.Next, int(c))
	}
	timer := time.Duration(f.GetTimerMs()) * time.Millisecond
	if timer < 0 || timer > contract.MaxFailoverTimer {
		return nil, fmt.Errorf("%w: failover timer %d ms", ErrBadMessage, f.GetTimerMs())
	}
	out.Timer = timer
	return out, nil
}
