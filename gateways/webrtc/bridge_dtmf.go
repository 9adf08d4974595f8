package webrtc

// The bridge's digits: RFC 4733 events played to the phone and read
// from it (dtmf.go has the event and INFO formats).

import (
	"math/rand/v2"
	"net"
	"time"

	"github.com/pion/rtp"
)

// setOnDigit sets what is told of the phone's RFC 4733 digits.
func (b *bridge) setOnDigit(f func(dtmfDigit)) {
	b.mu.Lock()
	b.onDigit = f
	b.mu.Unlock()
}

// digitToPhone plays a digit (from the browser's INFO) to the phone as
// RFC 4733 events in its stream; false when the phone did not
// negotiate telephone-event (the INFO then goes on as INFO) or does not
// receive.
func (b *bridge) digitToPhone(d dtmfDigit) bool {
	b.mu.Lock()
	a, dst, wants := b.pairing, b.latched, b.phoneDir.Receives()
	if dst == nil {
		dst = b.phoneSDP
	}
	b.mu.Unlock()
	if a == nil || a.phoneTE == nil || dst == nil || !wants {
		return false
	}
	te, clock := *a.phoneTE, a.phone.clock
	b.spawn(func() { b.playDigit(d, te, clock, dst) })
	return true
}

// playDigit sends d's events (eventPackets) on their schedule, with the
// timestamp the phone's stream has reached (audioClock: its codec's
// clock, which telephone-event's may differ from) and its SSRC.
func (b *bridge) playDigit(d dtmfDigit, te codec, audioClock uint32, dst *net.UDPAddr) {
	b.dtmfMu.Lock()
	defer b.dtmfMu.Unlock()
	pkts := eventPackets(d, te.clock)
	b.outMu.Lock()
	ts, ssrc := rand.Uint32(), rand.Uint32()
	if !b.outAt.IsZero() {
		ts, ssrc = eventStart(b.outTS, time.Since(b.outAt), audioClock), b.outSSRC
	}
	b.outMu.Unlock()
	start := time.Now()
	for _, pk := range pkts {
		if wait := time.Until(start.Add(pk.at)); wait > 0 {
			select {
			case <-b.done:
				return
			case <-time.After(wait):
			}
		}
		b.outMu.Lock()
		b.outShift++
		b.outSeq++
		p := rtp.Packet{Header: rtp.Header{Version: 2, Marker: pk.marker, PayloadType: te.pt, SequenceNumber: b.outSeq, Timestamp: ts, SSRC: ssrc},
			Payload: pk.payload}
		buf, err := p.Marshal()
		if err == nil {
			_, err = b.rtp.WriteToUDP(buf, dst)
		}
		b.outMu.Unlock()
		if err != nil {
			b.log.Debug("webrtc: DTMF to the phone", "error", err)
			return
		}
	}
	b.stats.DigitsToPhone.Add(1)
	b.log.Info("webrtc: digit to the phone as RFC 4733", "digit", string(d.digit), "duration", d.duration, "pt", te.pt, "clock", te.clock)
}

// phoneEvent tells onDigit of the first end packet of each of the
// phone's RFC 4733 events (readPlain's goroutine only).
func (b *bridge) phoneEvent(p *rtp.Packet, te codec, onDigit func(dtmfDigit)) {
	ev, ok := parseRFC4733(p.Payload)
	if !ok || !ev.end || (b.endSeen && b.endTS == p.Timestamp) {
		return
	}
	b.endSeen, b.endTS = true, p.Timestamp
	digit, ok := eventDigit(ev.event)
	if !ok || onDigit == nil || te.clock == 0 {
		return
	}
	d := dtmfDigit{digit: digit, duration: time.Duration(uint64(ev.duration) * uint64(time.Second) / uint64(te.clock))}
	b.stats.DigitsToBrowser.Add(1)
	b.spawn(func() { onDigit(d) })
}
