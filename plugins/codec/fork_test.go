package codec

import (
	"errors"
	"testing"
	"time"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// TestDecodeForkBranches: branches one per target with their changes
// and policies; wrong counts, protected headers, bad codes and timers
// are refused.
func TestDecodeForkBranches(t *testing.T) {
	fork := func(mod func(v *pb.Verdict)) *pb.Verdict {
		v := &pb.Verdict{Action: pb.Action_ACTION_FORK, Targets: []string{"sip:127.0.0.1:5071", "sip:127.0.0.1:5072"},
			Branches: []*pb.Branch{
				{RequestUri: "sip:+12065550100@127.0.0.1:5071;user=phone", AddHeaders: []*pb.Header{{Name: "P-Asserted-Identity", Value: "<tel:+12065550101>"}}},
				{RequestUri: "sip:2065550100@127.0.0.1:5072;user=phone", RemoveHeaders: []string{"P-Asserted-Identity"},
					Failover: &pb.Failover{NextCodes: []int32{503}, TimerMs: 3000, OnEarlyMedia: true}},
			},
			Failover: &pb.Failover{NextCodes: []int32{408, 500, 502, 503, 504}, TimerMs: 10000}}
		if mod != nil {
			mod(v)
		}
		return v
	}
	out, err := DecodeVerdict(fork(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Branches) != 2 || out.Branches[0].RequestURI.User != "+12065550100" || out.Branches[0].AddHeaders[0].Name() != "P-Asserted-Identity" ||
		out.Branches[1].Failover.Timer != 3*time.Second || !out.Branches[1].Failover.OnEarlyMedia || out.Failover.Timer != 10*time.Second ||
		len(out.Failover.Next) != 5 || out.Branches[0].Failover != nil {
		t.Fatalf("decoded %+v", out)
	}
	bad := map[string]func(v *pb.Verdict){
		"one branch for two targets": func(v *pb.Verdict) { v.Branches = v.Branches[:1] },
		"protected header":           func(v *pb.Verdict) { v.Branches[0].RemoveHeaders = []string{"From"} },
		"bad request uri":            func(v *pb.Verdict) { v.Branches[1].RequestUri = "http://x" },
		"2xx failover code":          func(v *pb.Verdict) { v.Failover.NextCodes = []int32{200} },
		"negative timer":             func(v *pb.Verdict) { v.Branches[1].Failover.TimerMs = -1 },
		"timer over the bound":       func(v *pb.Verdict) { v.Failover.TimerMs = int64(time.Hour / time.Millisecond) },
	}
	for name, mod := range bad {
		if _, err := DecodeVerdict(fork(mod)); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if out, err := DecodeVerdict(&pb.Verdict{Action: pb.Action_ACTION_FORK, Targets: []string{"sip:a@b"}}); err != nil || out.Branches != nil || out.Failover != nil {
		t.Fatalf("plain fork: %+v %v", out, err)
	}
}
