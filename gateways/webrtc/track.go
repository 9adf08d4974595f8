package webrtc

import (
	"strings"
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
	mu     sync.Mutex
	codec  webrtc.RTPCodecCapability // empty: the first negotiated codec that is not telephone-event
	writer webrtc.TrackLocalWriter
	ssrc   uint32
}

var _ webrtc.TrackLocal = (*relayTrack)(nil)

// Bind takes the negotiated stream; the codec is the one set.
func (t *relayTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range ctx.CodecParameters() {
		match := strings.EqualFold(p.MimeType, t.codec.MimeType) && p.ClockRate == t.codec.ClockRate
		if t.codec.MimeType == "" {
			match = !strings.EqualFold(p.MimeType, "audio/telephone-event")
		}
		if match {
			t.writer, t.ssrc = ctx.WriteStream(), uint32(ctx.SSRC())
			return p, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// setCodec sets the codec Bind takes (before the remote description
// that binds the track).
func (t *relayTrack) setCodec(c webrtc.RTPCodecCapability) {
	t.mu.Lock()
	t.codec = c
	t.mu.Unlock()
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
