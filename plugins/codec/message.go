package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// ErrBadMessage is wrapped by every decoding error.
var ErrBadMessage = errors.New("codec: bad message")

// MaxMessage bounds a raw message either way (the pipeline's 64 KiB body
// limit plus headers).
const MaxMessage = 96 << 10

// EncodeRequest is the protocol form of a request at this point of the
// chain.
func EncodeRequest(id uint64, r *contract.Request) *pb.SipRequest {
	req := r.Req
	m := &pb.SipRequest{
		Id: id, Raw: render(req), Method: string(req.Method), RequestUri: req.Recipient.String(),
		Source: r.Source, Transport: r.Transport, Trusted: r.Trusted, StrictRouted: r.StrictRouted, Identity: r.Identity,
	}
	if h := req.From(); h != nil {
		m.From = h.Address.String()
	}
	if h := req.To(); h != nil {
		m.To = h.Address.String()
	}
	if h := req.CallID(); h != nil {
		m.CallId = h.Value()
	}
	if h := req.ContentType(); h != nil {
		m.ContentType = h.Value()
	}
	return m
}

// renderBufs are the buffers messages are written into; the result is
// one exact-size copy.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render is msg's wire form.
func render(msg interface{ StringWrite(io.StringWriter) }) []byte {
	b := renderBufs.Get().(*bytes.Buffer)
	b.Reset()
	msg.StringWrite(b)
	raw := append([]byte(nil), b.Bytes()...)
	if b.Cap() <= 2*MaxMessage { // keep no outsized buffer
		renderBufs.Put(b)
	}
	return raw
}

// DecodeRequest parses the raw request of m.
func DecodeRequest(m *pb.SipRequest) (*sip.Request, error) {
	msg, err := parse(m.GetRaw())
	if err != nil {
		return nil, err
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return nil, fmt.Errorf("%w: not a request", ErrBadMessage)
	}
	return req, nil
}

// EncodeResponse is the protocol form of the final response to request id.
func EncodeResponse(id uint64, res *sip.Response) *pb.SipResponse {
	return &pb.SipResponse{Id: id, Raw: render(res), StatusCode: int32(res.StatusCode)}
}

// DecodeResponse parses the raw response of m.
func DecodeResponse(m *pb.SipResponse) (*sip.Response, error) {
	msg, err := parse(m.GetRaw())
	if err != nil {
		return nil, err
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		return nil, fmt.Errorf("%w: not a response", ErrBadMessage)
	}
	return res, nil
}

// ParseRequest parses raw request bytes (a plugin's SendRequest).
func ParseRequest(raw []byte) (*sip.Request, error) {
	return DecodeRequest(&pb.SipRequest{Raw: raw})
}

// parser is shared: a sipgo Parser keeps no state between messages.
var parser = sip.NewParser()

func parse(raw []byte) (sip.Message, error) {
	if len(raw) == 0 || len(raw) > MaxMessage {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadMessage, len(raw))
	}
	msg, err := parser.ParseSIP(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return msg, nil
}
