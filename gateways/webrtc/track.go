package webrtc

import (
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// relayTrack is the browser leg's outgoing audio: packets from the phone
// with their payload, sequence number and timestamp untouched, and the
// SSRC and payload type the browser negotiated. (TrackLocalStaticRTP
// would rewrite every packet's payload type to the codec's, breaking
// telephone-event.)
type relayTrack struct {
	codec webrtc.RTPCodecCapability

	mu     sync.Mutex
	writer webrtc.TrackLocalWriter
	ssrc   uint32
}

var _ webrtc.TrackLocal = (*relayTrack)(nil)

// Bind takes the negotiated stream; the codec is the one registered.
func (t *relayTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, p := range ctx.CodecParameters() {
		if p.MimeType == t.codec.MimeType && p.ClockRate == t.codec.ClockRate {
			t.mu.Lock()
			t.writer, t.ssrc = ctx.WriteStream(), uint32(ctx.SSRC())
			t.mu.Unlock()
			return p, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind stops writing.
func (t *relayTrack) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	t.writer = nil
	t.mu.Unlock()
	return nil
}

func (t *relayTrack) ID() string                { return "audio" }
func (t *relayTrack) RID() string               { return "" }
func (t *relayTrack) StreamID() string          { return "parley-webrtc" }
func (t *relayTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// write sends one packet (its header changed in place); false when the
// track is not bound (DTLS not up yet, or the call ending).
func (t *relayTrack) write(p *rtp.Packet, pt uint8) bool {
	t.mu.Lock()
	w, ssrc := t.writer, t.ssrc
	t.mu.Unlock()
	if w == nil {
		return false
	}
	p.SSRC, p.PayloadType = ssrc, pt
	_, err := w.WriteRTP(&p.Header, p.Payload)
	return err == nil
}
