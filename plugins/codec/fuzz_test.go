package codec

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// FuzzDecodeVerdict feeds arbitrary protobuf bytes as a plugin's verdict:
// decoding never panics, and whatever it accepts can be applied to a
// request that still serializes and parses.
func FuzzDecodeVerdict(f *testing.F) {
	for _, v := range []*pb.Verdict{
		{Action: pb.Action_ACTION_CONTINUE, AddHeaders: []*pb.Header{{Name: "X-A", Value: "b"}}, RequestUri: "sip:c@h"},
		{Action: pb.Action_ACTION_RESPOND, Code: 403, Reason: "Forbidden"},
		{Action: pb.Action_ACTION_FORK, Targets: []string{"sip:a@h", "tel:+1555"}},
	} {
		b, _ := proto.Marshal(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v pb.Verdict
		if proto.Unmarshal(data, &v) != nil {
			return
		}
		got, err := DecodeVerdict(&v)
		if err != nil {
			return
		}
		if got.Action == contract.Continue {
			req := testRequest(t)
			contract.ApplyChanges(req, &got)
			if _, err := ParseRequest([]byte(req.String())); err != nil {
				t.Fatalf("accepted verdict %v yields an unparsable request: %v\n%s", &v, err, req)
			}
		}
	})
}

// FuzzDecodeRequest feeds arbitrary bytes as a raw request: no panic,
// every failure is ErrBadMessage, and a request that decodes encodes back
// to one that decodes to the same method and Call-ID, or fails cleanly:
// sipgo does not always print what it parsed in a form it parses again
// (seed contact_not_round_trip: "Contact: ::A" prints as <sip::A>). On
// the host such a request reaches the plugin as a parse failure, which
// counts as a plugin failure: skipped, or 503 for a critical entry.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(rawMessage))
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := DecodeRequest(&pb.SipRequest{Raw: raw})
		if err != nil && !errors.Is(err, ErrBadMessage) {
			t.Fatalf("error %v does not wrap ErrBadMessage", err)
		}
		if err != nil || req.From() == nil || req.To() == nil || req.CallID() == nil {
			return
		}
		m := EncodeRequest(1, &contract.Request{Req: req})
		back, err := DecodeRequest(m)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if back.Method != req.Method || back.CallID().Value() != req.CallID().Value() {
			t.Fatalf("%s %s became %s %s", req.Method, req.CallID().Value(), back.Method, back.CallID().Value())
		}
	})
}
