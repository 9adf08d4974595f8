package sdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

func frame(m proto.Message) []byte {
	var buf bytes.Buffer
	w := frameWriter{w: &buf}
	if err := w.write(m); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func TestFrameRoundTrip(t *testing.T) {
	msgs := []*pb.HostMessage{
		{Kind: &pb.HostMessage_Request{Request: &pb.SipRequest{Id: 7, Method: "MESSAGE", Raw: bytes.Repeat([]byte("x"), 70<<10)}}},
		{Kind: &pb.HostMessage_Cancel{Cancel: &pb.Cancel{Id: 7}}},
		{Kind: &pb.HostMessage_Response{Response: &pb.SipResponse{Id: 8, StatusCode: 200, Raw: []byte("SIP/2.0 200 OK\r\n\r\n")}}},
		{},
	}
	var buf bytes.Buffer
	w := frameWriter{w: &buf}
	for _, m := range msgs {
		if err := w.write(m); err != nil {
			t.Fatal(err)
		}
	}
	r := newFrameReader(&buf)
	for i, want := range msgs {
		got := &pb.HostMessage{}
		if err := r.read(got); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("message %d: got %v, want %v", i, got, want)
		}
	}
	if err := r.read(&pb.HostMessage{}); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last frame: %v, want EOF", err)
	}
}

func TestFrameRejects(t *testing.T) {
	huge := make([]byte, 4)
	binary.BigEndian.PutUint32(huge, MaxFrame+1)
	ok := frame(&pb.PluginMessage{Kind: &pb.PluginMessage_Verdict{Verdict: &pb.Verdict{Id: 1}}})
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"length over the bound", huge, errFrameSize},
		{"cut in the prefix", ok[:2], io.ErrUnexpectedEOF},
		{"cut in the body", ok[:len(ok)-1], io.ErrUnexpectedEOF},
		{"not a message", []byte{0, 0, 0, 2, 0xff, 0xff}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newFrameReader(bytes.NewReader(tc.in)).read(&pb.PluginMessage{})
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzReadFrame feeds arbitrary bytes to the hop socket's reader: it
// never panics nor allocates past MaxFrame, and every message it accepts
// frames back to bytes that read the same.
func FuzzReadFrame(f *testing.F) {
	f.Add(frame(&pb.PluginMessage{Kind: &pb.PluginMessage_Verdict{Verdict: &pb.Verdict{Id: 3, Action: pb.Action_ACTION_RESPOND, Code: 403}}}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newFrameReader(bytes.NewReader(data))
		for i := 0; i < 64; i++ {
			m := &pb.PluginMessage{}
			if err := r.read(m); err != nil {
				return
			}
			again := &pb.PluginMessage{}
			if err := newFrameReader(bytes.NewReader(frame(m))).read(again); err != nil || !proto.Equal(m, again) {
				t.Fatalf("accepted %v does not frame back: %v", m, err)
			}
		}
	})
}

// stutter hands out its bytes a few at a time, with a deadline error
// between reads, as a socket read with short deadlines does.
type stutter struct {
	b    []byte
	step int
	fail bool
}

func (s *stutter) Read(p []byte) (int, error) {
	if s.fail = !s.fail; s.fail {
		return 0, os.ErrDeadlineExceeded
	}
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), s.step)], s.b)
	s.b = s.b[n:]
	return n, nil
}

// TestFrameResumesAfterDeadline: reads that fail part way through a frame
// lose nothing; the frames come out whole and in order.
func TestFrameResumesAfterDeadline(t *testing.T) {
	var all []byte
	var want []*pb.PluginMessage
	for i := range 5 {
		m := &pb.PluginMessage{Kind: &pb.PluginMessage_Verdict{Verdict: &pb.Verdict{Id: uint64(i + 1), Reason: strings.Repeat("r", 40*i)}}}
		want = append(want, m)
		all = append(all, frame(m)...)
	}
	r := newFrameReader(&stutter{b: all, step: 3})
	timeouts := 0
	for i := 0; i < len(want); {
		if timeouts > 10*len(all) {
			t.Fatal("no progress")
		}
		got := &pb.PluginMessage{}
		err := r.read(got)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			timeouts++
			continue
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !proto.Equal(got, want[i]) {
			t.Fatalf("frame %d: got %v, want %v", i, got, want[i])
		}
		i++
	}
	if timeouts == 0 {
		t.Fatal("the reader never saw a deadline")
	}
	for range 3 {
		if err := r.read(&pb.PluginMessage{}); errors.Is(err, io.EOF) {
			return
		}
	}
	t.Fatal("no EOF after the last frame")
}
