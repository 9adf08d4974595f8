package webrtc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testEnv is a media environment on loopback with a free muxed port.
func testEnv(t *testing.T, settings map[string]string) *mediaEnv {
	t.Helper()
	set := map[string]string{"udp-port": "0", "ice-address": "127.0.0.1", "rtp-ports": "42000-42199", "rtp-timeout": "5s"}
	for k, v := range settings {
		set[k] = v
	}
	cfg, err := ParseSettings(set, []string{"example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := newMediaEnv(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

// testBrowser is a pion PeerConnection on loopback that offers what a
// browser offers (opus, G722, PCMU, PCMA, telephone-event) and sends
// with a TrackLocalStaticRTP (PCMA: what the phone in the test takes).
type testBrowser struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	got   chan *rtp.Packet
}

func newTestBrowser(t *testing.T) *testBrowser {
	t.Helper()
	me := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeG722, ClockRate: 8000}, PayloadType: 9},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000}, PayloadType: 126},
	} {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	b := &testBrowser{pc: pc, got: make(chan *rtp.Packet, 100)}
	if b.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}, "audio", "browser"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(b.track); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			select {
			case b.got <- p:
			default:
			}
		}
	})
	return b
}

// offer is the browser's complete (non-trickle) offer.
func (b *testBrowser) offer(t *testing.T) []byte {
	t.Helper()
	o, err := b.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-done
	return []byte(b.pc.LocalDescription().SDP)
}

// phoneAnswer answers a plain offer from a UDP socket, keeping formats.
func phoneAnswer(port int, formats string, attrs ...string) []byte {
	s := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n", port, formats)
	for _, a := range attrs {
		s += "a=" + a + "\r\n"
	}
	return []byte(s)
}

// TestBridgeRelaysBothWays: a pion PeerConnection plays the browser, a
// UDP socket the phone; marked payloads go each way, with the payload
// types each side negotiated, and closing releases every goroutine.
func TestBridgeRelaysBothWays(t *testing.T) {
	before := runtime.NumGoroutine()
	env := testEnv(t, nil)
	browser := newTestBrowser(t)
	phone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()

	ended := make(chan string, 1)
	br, err := env.newBridge(browser.offer(t), quiet, func(r string) { ended <- r })
	if err != nil {
		t.Fatal(err)
	}
	po, err := br.plainOffer()
	if err != nil {
		t.Fatal(err)
	}
	// Steering: PCMU and PCMA (the gateway's codecs, numbered as the
	// browser numbered them) and telephone-event/8000; no opus, no G722.
	for _, want := range []string{"m=audio 420", "RTP/AVP 0 8 126", "a=rtpmap:126 telephone-event/8000", "c=IN IP4 127.0.0.1"} {
		if !strings.Contains(string(po), want) {
			t.Fatalf("plain offer lacks %q:\n%s", want, po)
		}
	}
	phonePort := phone.LocalAddr().(*net.UDPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The phone takes PCMA and numbers telephone-event 101.
	ans, err := br.answer(ctx, phoneAnswer(phonePort, "8 101", "rtpmap:8 PCMA/8000", "rtpmap:101 telephone-event/8000"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"UDP/TLS/RTP/SAVPF 8 126", "a=setup:passive", "a=rtcp-mux", "a=group:BUNDLE", "typ host"} {
		if !strings.Contains(string(ans), want) {
			t.Fatalf("browser answer lacks %q:\n%s", want, ans)
		}
	}
	if strings.Contains(string(ans), "opus") || strings.Contains(string(ans), "PCMU") {
		t.Fatalf("browser answer offers what the phone did not take:\n%s", ans)
	}
	if err := browser.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(ans)}); err != nil {
		t.Fatal(err)
	}

	// Phone -> browser: PCMA (8) stays 8, telephone-event 101 becomes 126.
	plainAddr := br.rtp.LocalAddr().(*net.UDPAddr)
	send := func(seq uint16, pt uint8, payload string) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0xabc}, Payload: []byte(payload)}
		b, _ := p.Marshal()
		phone.WriteToUDP(b, plainAddr)
	}
	deadline := time.Now().Add(10 * time.Second)
	gotTone, gotEvent := false, false
	// One SSRC, one sequence space, as a phone sends telephone-event
	// beside its audio: the browser's SRTP replay window drops a packet
	// far behind the newest it saw, so two interleaved sequence spaces
	// would lose one stream depending on which packet came first.
	for seq := uint16(1); !(gotTone && gotEvent) && time.Now().Before(deadline); seq += 2 {
		send(seq, 8, fmt.Sprintf("phone-%d", seq))
		send(seq+1, 101, "event")
		select {
		case p := <-browser.got:
			switch {
			case p.PayloadType == 8 && strings.HasPrefix(string(p.Payload), "phone-"):
				gotTone = true
			case p.PayloadType == 126 && string(p.Payload) == "event":
				gotEvent = true
			default:
				t.Fatalf("browser got pt %d %q", p.PayloadType, p.Payload)
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !gotTone || !gotEvent {
		t.Fatalf("phone -> browser: audio %v, telephone-event %v (%s)", gotTone, gotEvent, br)
	}

	// Browser -> phone: the browser's PCMA track (pt 8) reaches the
	// phone's latched socket as pt 8.
	got := make(chan *rtp.Packet, 10)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := phone.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil {
				select {
				case got <- &p:
				default:
				}
			}
		}
	}()
	var arrived *rtp.Packet
	for i := 0; arrived == nil && time.Now().Before(deadline); i++ {
		browser.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i) * 160}, Payload: []byte("browser-mark")})
		select {
		case arrived = <-got:
		case <-time.After(20 * time.Millisecond):
		}
	}
	if arrived == nil || string(arrived.Payload) != "browser-mark" || arrived.PayloadType != 8 {
		t.Fatalf("browser -> phone: %v (%s)", arrived, br)
	}

	br.close()
	browser.pc.Close()
	select {
	case r := <-ended:
		t.Fatalf("bridge ended itself: %s", r)
	default:
	}
	waitGoroutines(t, before+8) // pion keeps a few for its mux and timers
}

// TestBridgeNoCommonCodec: a browser that offers only opus cannot be
// steered to a PCMU/PCMA gateway.
func TestBridgeNoCommonCodec(t *testing.T) {
	env := testEnv(t, nil)
	offer := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
	if _, err := env.newBridge([]byte(offer), quiet, nil); err == nil || !strings.Contains(err.Error(), "no audio codec") {
		t.Fatalf("err = %v", err)
	}
}

// TestBridgeRTPTimeout: with no RTP either way the bridge ends itself.
func TestBridgeRTPTimeout(t *testing.T) {
	env := testEnv(t, map[string]string{"rtp-timeout": "300ms"})
	browser := newTestBrowser(t)
	ended := make(chan string, 1)
	br, err := env.newBridge(browser.offer(t), quiet, func(r string) { ended <- r })
	if err != nil {
		t.Fatal(err)
	}
	defer br.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := br.answer(ctx, phoneAnswer(9, "0", "rtpmap:0 PCMU/8000")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ended:
		if r != "rtp-timeout" {
			t.Fatalf("ended: %s", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no rtp-timeout")
	}
}

// waitGoroutines waits (bounded) until at most n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// phoneOffer is a plain offer from port: G722 (which the gateway does
// not relay by default), PCMA and telephone-event 101.
func phoneOffer(port int, dir string) []byte {
	return phoneAnswer(port, "9 8 101", "rtpmap:9 G722/8000", "rtpmap:8 PCMA/8000", "rtpmap:101 telephone-event/8000", dir)
}

// phoneSocket is a UDP socket playing the phone, with what it receives.
func phoneSocket(t *testing.T) (*net.UDPConn, chan *rtp.Packet) {
	t.Helper()
	phone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phone.Close() })
	got := make(chan *rtp.Packet, 100)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := phone.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil {
				select {
				case got <- &p:
				default:
				}
			}
		}
	}()
	return phone, got
}

// flows sends marked packets from send until one arrives on got (within
// limit); it reports whether one did.
func flows(send func(seq uint16), got chan *rtp.Packet, limit time.Duration) bool {
	for len(got) > 0 {
		<-got
	}
	deadline := time.Now().Add(limit)
	for seq := uint16(1); time.Now().Before(deadline); seq++ {
		send(seq)
		select {
		case <-got:
			return true
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

// TestBridgeFromPhone: a phone's plain offer (G722, PCMA,
// telephone-event) is steered and offered to a pion browser as WebRTC
// (SAVPF, ICE, actpass, the phone's payload numbers); the browser's
// answer becomes the phone's plain answer, and media goes both ways.
func TestBridgeFromPhone(t *testing.T) {
	before := runtime.NumGoroutine()
	env := testEnv(t, nil)
	phone, got := phoneSocket(t)
	phonePort := phone.LocalAddr().(*net.UDPAddr).Port
	br, err := env.newBridgeFromPhone(phoneOffer(phonePort, "sendrecv"), quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := br.browserOffer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Steering keeps what the gateway relays, in the phone's numbers.
	for _, want := range []string{"UDP/TLS/RTP/SAVPF 8 101", "a=setup:actpass", "a=ice-ufrag:", "a=fingerprint:", "typ host", "a=rtcp-mux"} {
		if !strings.Contains(string(offer), want) {
			t.Fatalf("browser offer lacks %q:\n%s", want, offer)
		}
	}
	browser := newTestBrowser(t)
	if err := browser.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		t.Fatal(err)
	}
	ans, err := browser.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(browser.pc)
	if err := browser.pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	<-done
	plain, err := br.browserAnswered([]byte(browser.pc.LocalDescription().SDP))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000", "a=sendrecv", "c=IN IP4 127.0.0.1"} {
		if !strings.Contains(string(plain), want) {
			t.Fatalf("plain answer lacks %q:\n%s", want, plain)
		}
	}
	plainAddr := br.rtp.LocalAddr().(*net.UDPAddr)
	toBrowser := func(seq uint16) {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: seq, SSRC: 5}, Payload: []byte("tone")}).Marshal()
		phone.WriteToUDP(b, plainAddr)
	}
	if !flows(toBrowser, browser.got, 10*time.Second) {
		t.Fatalf("phone -> browser: nothing (%s)", br)
	}
	toPhone := func(seq uint16) {
		browser.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160}, Payload: []byte("mark")})
	}
	if !flows(toPhone, got, 10*time.Second) {
		t.Fatalf("browser -> phone: nothing (%s)", br)
	}
	br.close()
	browser.pc.Close()
	if env.stats.Sockets.Load() != 0 || env.stats.Goroutines.Load() != 0 {
		t.Fatalf("after close: %d sockets, %d goroutines", env.stats.Sockets.Load(), env.stats.Goroutines.Load())
	}
	waitGoroutines(t, before+8)
}
