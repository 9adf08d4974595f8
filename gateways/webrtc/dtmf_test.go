package webrtc

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestParseDTMFInfo(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		digit    byte
		dur      time.Duration
		bad      bool
	}{
		{ct: "application/dtmf-relay", body: "Signal=5\r\nDuration=160\r\n", digit: '5', dur: 160 * time.Millisecond},
		{ct: "Application/DTMF-Relay; charset=x", body: "signal= #\nduration=250", digit: '#', dur: 250 * time.Millisecond},
		{ct: "application/dtmf-relay", body: "Signal=*\r\n", digit: '*', dur: dtmfDefaultDuration},
		{ct: "application/dtmf-relay", body: "Signal=a\r\nDuration=10\r\n", digit: 'A', dur: dtmfMinDuration},
		{ct: "application/dtmf-relay", body: "Signal=1\r\nDuration=99999\r\n", digit: '1', dur: dtmfMaxDuration},
		{ct: "application/dtmf", body: "9\r\n", digit: '9', dur: dtmfDefaultDuration},
		{ct: "application/dtmf-relay", body: "Signal=12\r\n", bad: true},
		{ct: "application/dtmf-relay", body: "Signal=x\r\n", bad: true},
		{ct: "application/dtmf-relay", body: "Duration=100\r\n", bad: true},
		{ct: "application/dtmf-relay", body: "Signal=1\r\nDuration=soon\r\n", bad: true},
		{ct: "application/dtmf", body: "", bad: true},
		{ct: "text/plain", body: "1", bad: true},
	} {
		d, err := parseDTMFInfo(tc.ct, []byte(tc.body))
		if tc.bad {
			if !errors.Is(err, ErrBadDTMF) {
				t.Errorf("%s %q: err %v, want ErrBadDTMF", tc.ct, tc.body, err)
			}
			continue
		}
		if err != nil || d.digit != tc.digit || d.duration != tc.dur {
			t.Errorf("%s %q: %c %v %v, want %c %v", tc.ct, tc.body, d.digit, d.duration, err, tc.digit, tc.dur)
		}
	}
	if !isDTMFInfo("application/dtmf-relay") || !isDTMFInfo(" application/dtmf ;x=y") || isDTMFInfo("application/media_control+xml") {
		t.Error("isDTMFInfo")
	}
	if got := string(dtmfRelayBody(dtmfDigit{digit: '#', duration: 120 * time.Millisecond})); got != "Signal=#\r\nDuration=120\r\n" {
		t.Errorf("dtmfRelayBody = %q", got)
	}
}

func TestEventCodes(t *testing.T) {
	for i, d := range []byte("0123456789*#ABCD") {
		code, ok := eventCode(d)
		if !ok || int(code) != i {
			t.Fatalf("eventCode(%c) = %d %v, want %d", d, code, ok, i)
		}
		if back, ok := eventDigit(code); !ok || back != d {
			t.Fatalf("eventDigit(%d) = %c", code, back)
		}
	}
	if _, ok := eventCode('x'); ok {
		t.Fatal("eventCode(x)")
	}
	if _, ok := eventDigit(16); ok { // flash and the tones past 15 are not digits
		t.Fatal("eventDigit(16)")
	}
}

// TestEventPackets: a 160 ms digit at telephone-event/8000 and /48000:
// an update every 20 ms with the duration so far in the event clock's
// units, the marker on the first, the end three times with the full
// duration.
func TestEventPackets(t *testing.T) {
	for _, clock := range []uint32{8000, 48000} {
		pk := eventPackets(dtmfDigit{digit: '#', duration: 160 * time.Millisecond}, clock)
		if len(pk) != 8+3 {
			t.Fatalf("%d Hz: %d packets, want 11", clock, len(pk))
		}
		unit := clock / 50 // 20 ms
		for i, p := range pk {
			ev, ok := parseRFC4733(p.payload)
			if !ok || ev.event != 11 || ev.volume != 10 {
				t.Fatalf("%d Hz packet %d: %+v", clock, i, ev)
			}
			if p.marker != (i == 0) {
				t.Fatalf("%d Hz packet %d: marker %v", clock, i, p.marker)
			}
			want, end, at := uint16(unit*uint32(i+1)), false, time.Duration(i)*dtmfInterval
			if i >= 8 {
				want, end, at = uint16(8*unit), true, 160*time.Millisecond
			}
			if ev.duration != want || ev.end != end || p.at != at {
				t.Fatalf("%d Hz packet %d: duration %d end %v at %v, want %d %v %v", clock, i, ev.duration, ev.end, p.at, want, end, at)
			}
		}
	}
	// A 5 s digit at 48 kHz is 240000 units: past 16 bits, it saturates.
	pk := eventPackets(dtmfDigit{digit: '1', duration: 5 * time.Second}, 48000)
	if ev, _ := parseRFC4733(pk[len(pk)-1].payload); ev.duration != 0xffff || !ev.end {
		t.Fatalf("long digit end: %+v", ev)
	}
}

// TestEventStart: a generated event starts where the phone's stream has
// got to, counted in the audio codec's clock: 100 ms after a PCMU
// packet is 800 ticks on, after an opus packet 4800 (whatever the
// telephone-event clock, whose units only count durations).
func TestEventStart(t *testing.T) {
	if got := eventStart(1000, 100*time.Millisecond, 8000); got != 1800 {
		t.Errorf("8 kHz: %d, want 1800", got)
	}
	if got := eventStart(1000, 100*time.Millisecond, 48000); got != 5800 {
		t.Errorf("48 kHz: %d, want 5800", got)
	}
	if got := eventStart(0xffffff00, 20*time.Millisecond, 48000); got != 960-0x100 { // wraps
		t.Errorf("wrap: %d", got)
	}
}

// TestBridgeDTMF: the browser offers telephone-event 126, the phone
// answers 101. A digit from the browser's INFO reaches the phone as RFC
// 4733 events (pt 101, the browser's SSRC, the sequence numbers going on
// from the relayed audio's and the audio's after it shifted past them);
// the phone's RFC 4733 digit (its end sent three times) is told once,
// with its duration from 8 kHz units.
func TestBridgeDTMF(t *testing.T) {
	env := testEnv(t, nil)
	browser := newTestBrowser(t)
	phone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	br, err := env.newBridge(browser.offer(t), quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer br.close()
	digits := make(chan dtmfDigit, 4)
	br.setOnDigit(func(d dtmfDigit) { digits <- d })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ans, err := br.answer(ctx, phoneAnswer(phone.LocalAddr().(*net.UDPAddr).Port, "8 101", "rtpmap:8 PCMA/8000", "rtpmap:101 telephone-event/8000"))
	if err != nil {
		t.Fatal(err)
	}
	if err := browser.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(ans)}); err != nil {
		t.Fatal(err)
	}
	got := make(chan *rtp.Packet, 200)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := phone.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil {
				got <- &p
			}
		}
	}()
	// Audio until the phone hears it.
	deadline := time.Now().Add(10 * time.Second)
	var last *rtp.Packet
	seq := uint16(100)
	for ; last == nil && time.Now().Before(deadline); seq++ {
		browser.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160}, Payload: []byte("audio")})
		select {
		case last = <-got:
		case <-time.After(20 * time.Millisecond):
		}
	}
	if last == nil {
		t.Fatalf("no audio at the phone (%s)", br)
	}
	for drained := false; !drained; { // packets still in flight
		select {
		case p := <-got:
			last = p
		case <-time.After(100 * time.Millisecond):
			drained = true
		}
	}
	if !br.digitToPhone(dtmfDigit{digit: '9', duration: 100 * time.Millisecond}) {
		t.Fatal("digitToPhone: false with telephone-event on both sides")
	}
	var events []*rtp.Packet
	for len(events) < 8 {
		select {
		case p := <-got:
			if p.PayloadType != 101 {
				t.Fatalf("pt %d during the digit", p.PayloadType)
			}
			events = append(events, p)
		case <-time.After(2 * time.Second):
			t.Fatalf("%d event packets, want 5 updates and 3 ends", len(events))
		}
	}
	for i, p := range events {
		ev, _ := parseRFC4733(p.Payload)
		if ev.event != 9 || p.SSRC != last.SSRC || p.SequenceNumber != last.SequenceNumber+1+uint16(i) || p.Timestamp != events[0].Timestamp || p.Marker != (i == 0) {
			t.Fatalf("event %d: %+v seq %d ts %d ssrc %x marker %v (last audio seq %d ssrc %x)", i, ev, p.SequenceNumber, p.Timestamp, p.SSRC, p.Marker, last.SequenceNumber, last.SSRC)
		}
		if i >= 5 && (!ev.end || ev.duration != 800) {
			t.Fatalf("end %d: %+v", i, ev)
		}
	}
	if d := events[0].Timestamp - last.Timestamp; d == 0 || d > 8000 {
		t.Fatalf("event timestamp %d after audio %d", events[0].Timestamp, last.Timestamp)
	}
	browser.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160}, Payload: []byte("after")})
	select {
	case p := <-got:
		if string(p.Payload) != "after" || p.SequenceNumber != events[7].SequenceNumber+1 {
			t.Fatalf("audio after the digit: seq %d %q, want %d", p.SequenceNumber, p.Payload, events[7].SequenceNumber+1)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no audio after the digit")
	}

	// The phone's digit: updates, then the end three times.
	plain := br.rtp.LocalAddr().(*net.UDPAddr)
	for i, ev := range []rfc4733{{event: 11, duration: 160}, {event: 11, duration: 480}, {event: 11, end: true, duration: 800}, {event: 11, end: true, duration: 800}, {event: 11, end: true, duration: 800}} {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: uint16(500 + i), Timestamp: 48000, SSRC: 0xabc, Marker: i == 0}, Payload: ev.marshal()}
		b, _ := p.Marshal()
		phone.WriteToUDP(b, plain)
	}
	select {
	case d := <-digits:
		if d.digit != '#' || d.duration != 100*time.Millisecond {
			t.Fatalf("phone's digit: %c %v, want # 100ms", d.digit, d.duration)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the phone's digit was not told")
	}
	select {
	case d := <-digits:
		t.Fatalf("the phone's digit told twice (%c)", d.digit)
	case <-time.After(200 * time.Millisecond):
	}
	if !strings.Contains(br.String(), "to-phone") {
		t.Fatal(br.String())
	}
}

// TestBridgeDTMFNoTelephoneEvent: a phone that answered without
// telephone-event gets the browser's digits as INFO (digitToPhone says
// false).
func TestBridgeDTMFNoTelephoneEvent(t *testing.T) {
	env := testEnv(t, nil)
	browser := newTestBrowser(t)
	br, err := env.newBridge(browser.offer(t), quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer br.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := br.answer(ctx, phoneAnswer(40000, "0", "rtpmap:0 PCMU/8000")); err != nil {
		t.Fatal(err)
	}
	if br.digitToPhone(dtmfDigit{digit: '1', duration: 100 * time.Millisecond}) {
		t.Fatal("digitToPhone: true without telephone-event")
	}
}
