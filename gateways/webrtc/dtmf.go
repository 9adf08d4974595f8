package webrtc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DTMF across the gateway (see the README):
//
//   - RFC 4733 events pass with the audio, their payload type mapped,
//     when both sides negotiated telephone-event;
//   - a SIP INFO with a digit (application/dtmf-relay, JsSIP's default,
//     or application/dtmf) from the browser becomes RFC 4733 events
//     toward the phone when the phone negotiated telephone-event, else
//     the INFO goes on to the phone as application/dtmf-relay;
//   - a digit the phone sends as RFC 4733 also goes to the browser as a
//     SIP INFO application/dtmf-relay (a browser cannot observe RFC 4733
//     it receives: WebRTC has no event for it; JsSIP and SIP.js report
//     INFO digits), and a phone's INFO goes on to the browser the same way.

// ErrBadDTMF: an INFO whose body is no DTMF digit.
var ErrBadDTMF = errors.New("no DTMF digit")

// dtmfDigit is one digit and how long it lasts.
type dtmfDigit struct {
	digit    byte // 0-9, *, #, A-D
	duration time.Duration
}

// Defaults and bounds of a digit's duration (an INFO without Duration,
// or out of bounds).
const (
	dtmfDefaultDuration = 160 * time.Millisecond
	dtmfMinDuration     = 40 * time.Millisecond
	dtmfMaxDuration     = 5 * time.Second
)

// eventCode is the RFC 4733 event of a digit (3.2: 0-9, * 10, # 11, A-D
// 12-15).
func eventCode(d byte) (uint8, bool) {
	switch {
	case d >= '0' && d <= '9':
		return d - '0', true
	case d == '*':
		return 10, true
	case d == '#':
		return 11, true
	case d >= 'A' && d <= 'D':
		return d - 'A' + 12, true
	case d >= 'a' && d <= 'd':
		return d - 'a' + 12, true
	}
	return 0, false
}

// eventDigit is the digit of an RFC 4733 event (false: not a digit).
func eventDigit(code uint8) (byte, bool) {
	switch {
	case code <= 9:
		return '0' + code, true
	case code == 10:
		return '*', true
	case code == 11:
		return '#', true
	case code <= 15:
		return 'A' + code - 12, true
	}
	return 0, false
}

// isDTMFInfo reports whether an INFO's Content-Type carries a digit.
func isDTMFInfo(contentType string) bool {
	ct, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(contentType)), ";")
	ct = strings.TrimSpace(ct)
	return ct == "application/dtmf-relay" || ct == "application/dtmf"
}

// parseDTMFInfo reads an INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160\r\n", Duration in ms) or application/dtmf
// (the digit alone).
func parseDTMFInfo(contentType string, body []byte) (dtmfDigit, error) {
	ct, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(contentType)), ";")
	d := dtmfDigit{duration: dtmfDefaultDuration}
	switch strings.TrimSpace(ct) {
	case "application/dtmf":
		v := strings.TrimSpace(string(body))
		if len(v) != 1 {
			return d, fmt.Errorf("%w: application/dtmf body %q", ErrBadDTMF, v)
		}
		d.digit = v[0]
	case "application/dtmf-relay":
		for _, line := range strings.FieldsFunc(string(body), func(r rune) bool { return r == '\r' || r == '\n' }) {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				if len(v) != 1 {
					return d, fmt.Errorf("%w: Signal=%q", ErrBadDTMF, v)
				}
				d.digit = v[0]
			case "duration":
				ms, err := strconv.Atoi(v)
				if err != nil {
					return d, fmt.Errorf("%w: Duration=%q", ErrBadDTMF, v)
				}
				d.duration = time.Duration(ms) * time.Millisecond
			}
		}
	default:
		return d, fmt.Errorf("%w: content type %q", ErrBadDTMF, contentType)
	}
	if _, ok := eventCode(d.digit); !ok {
		return d, fmt.Errorf("%w: %q", ErrBadDTMF, d.digit)
	}
	d.digit = bytes.ToUpper([]byte{d.digit})[0]
	d.duration = min(max(d.duration, dtmfMinDuration), dtmfMaxDuration)
	return d, nil
}

// dtmfRelayBody is the application/dtmf-relay body of d.
func dtmfRelayBody(d dtmfDigit) []byte {
	return []byte(fmt.Sprintf("Signal=%c\r\nDuration=%d\r\n", d.digit, d.duration.Milliseconds()))
}

// rfc4733 is one RFC 4733 event payload (section 2.3).
type rfc4733 struct {
	event    uint8
	end      bool
	volume   uint8  // 0-63, -dBm0
	duration uint16 // in the telephone-event clock's units
}

func (e rfc4733) marshal() []byte {
	b := make([]byte, 4)
	b[0] = e.event
	b[1] = e.volume & 0x3f
	if e.end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.duration)
	return b
}

func parseRFC4733(b []byte) (rfc4733, bool) {
	if len(b) < 4 {
		return rfc4733{}, false
	}
	return rfc4733{event: b[0], end: b[1]&0x80 != 0, volume: b[1] & 0x3f, duration: binary.BigEndian.Uint16(b[2:4])}, true
}

// dtmfPacket is one packet of a generated event: its payload, its
// offset from the event's start (when to send it) and whether it
// starts the event (RTP marker).
type dtmfPacket struct {
	payload []byte
	at      time.Duration
	marker  bool
}

// dtmfInterval is how often a generated event is updated (RFC 4733
// 2.5.1.2: 50 ms is recommended; 20 ms keeps to the audio's ptime).
const dtmfInterval = 20 * time.Millisecond

// eventPackets are the packets of digit d as RFC 4733 events at the
// telephone-event clock rate teClock: one every dtmfInterval with the
// duration so far (RFC 4733 2.5.1.2), then the end packet three times
// (2.5.1.4). Every packet carries the timestamp of the event's start
// (in the audio's clock, which may differ: telephone-event/8000 beside
// opus/48000); the durations are in teClock's units.
func eventPackets(d dtmfDigit, teClock uint32) []dtmfPacket {
	code, ok := eventCode(d.digit)
	if !ok || teClock == 0 {
		return nil
	}
	units := func(t time.Duration) uint16 {
		u := uint64(t) * uint64(teClock) / uint64(time.Second)
		return uint16(min(u, 0xffff))
	}
	var out []dtmfPacket
	for at := time.Duration(0); at < d.duration && len(out) < 500; at += dtmfInterval {
		out = append(out, dtmfPacket{payload: rfc4733{event: code, volume: 10, duration: units(min(at+dtmfInterval, d.duration))}.marshal(),
			at: at, marker: at == 0})
	}
	for range 3 {
		out = append(out, dtmfPacket{payload: rfc4733{event: code, end: true, volume: 10, duration: units(d.duration)}.marshal(), at: d.duration})
	}
	return out
}

// eventStart is the RTP timestamp of a generated event that starts
// since after the packet with timestamp last, in the audio's clock
// (8000 for G.711 and G.722, 48000 for opus): where the phone's stream
// has got to.
func eventStart(last uint32, since time.Duration, audioClock uint32) uint32 {
	return last + uint32(uint64(max(since, 0))*uint64(audioClock)/uint64(time.Second))
}
