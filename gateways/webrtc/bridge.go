package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-rtc/parley/plugins/rtpmedia"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// bridgeStats count one call's packets.
type bridgeStats struct {
	ToPhone, ToBrowser atomic.Uint64 // RTP relayed each way
	Dropped            atomic.Uint64 // unknown payload type, garbage, unlatched source, held, not yet bound
	RTCP               atomic.Uint64 // RTCP read (from either side) and not relayed (not yet)
	DigitsToPhone      atomic.Uint64 // INFO digits sent to the phone as RFC 4733 events
	DigitsToBrowser    atomic.Uint64 // RFC 4733 digits of the phone also sent to the browser as INFO
}

// bridge relays one call's audio between a browser (pion PeerConnection:
// ICE on the muxed port, DTLS-SRTP, rtcp-mux, BUNDLE) and a phone (plain
// RTP/AVP on a port pair, symmetric latching). The payloads pass
// untouched; only the SSRC and the payload type change. close releases
// the sockets, the PeerConnection and every goroutine.
//
// Two ways to build one: newBridge when the browser offered (the
// gateway offers the phone, then answers the browser with what the phone
// took), newBridgeFromPhone when the phone offered (the gateway offers
// the browser, then answers the phone with what the browser took).
type bridge struct {
	env   *mediaEnv
	log   *slog.Logger
	offer string  // the browser's offer (newBridge)
	codec []codec // steered: what the other side is offered, numbered as the offerer numbered them
	org   origin
	rtp   *net.UDPConn
	rtcp  *net.UDPConn
	onEnd func(reason string) // once, on its own goroutine
	stats bridgeStats

	pc    *webrtc.PeerConnection
	track *relayTrack

	mu         sync.Mutex
	closed     bool
	pairing    *pairing // nil until both sides chose
	toPhone    *ptMap   // nil until the codecs are paired
	toBrowser  *ptMap
	phoneSDP   *net.UDPAddr // where the phone's description says to send
	latched    *net.UDPAddr // the source of its first packet
	phoneDir   direction    // the phone's latest description's direction
	browserDir direction    // the browser's
	wg         sync.WaitGroup

	onDigit func(dtmfDigit) // a digit the phone sent as RFC 4733 (the call sends the browser an INFO)

	// The phone's stream carries the browser's packets and the digits
	// the gateway generates (from the browser's INFOs): every relayed
	// packet's sequence number is shifted by the packets inserted.
	outMu    sync.Mutex
	outShift uint16
	outSeq   uint16 // the last sent
	outTS    uint32
	outSSRC  uint32
	outAt    time.Time  // when the last relayed packet was sent (zero: none yet)
	dtmfMu   sync.Mutex // one generated digit at a time

	endTS   uint32 // the phone's last event end seen (readPlain only)
	endSeen bool

	done      chan struct{} // closed by close
	lastRx    atomic.Int64  // unix nanoseconds of the last RTP either way
	endOnce   sync.Once
	closeOnce sync.Once
}

// newBridge steers the browser's offer to the gateway's codecs and binds
// the plain leg's ports; onEnd is told when the media fails or stops.
func (e *mediaEnv) newBridge(browserOffer []byte, log *slog.Logger, onEnd func(string)) (*bridge, error) {
	sd := &sdp.SessionDescription{}
	if err := sd.Unmarshal(browserOffer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	md := firstAudio(sd)
	if md == nil {
		return nil, fmt.Errorf("%w: no audio stream", ErrWebRTCOffer)
	}
	codecs, err := steer(e.cfg.Codecs, audioCodecs(md))
	if err != nil {
		return nil, err
	}
	br, err := e.bind(log, onEnd)
	if err != nil {
		return nil, err
	}
	br.offer, br.codec, br.browserDir = string(browserOffer), codecs, rtpmedia.DirectionOf(sd, md)
	return br, nil
}

// newBridgeFromPhone steers a plain offer to the gateway's codecs and
// binds the plain leg's ports (the phone called a browser).
func (e *mediaEnv) newBridgeFromPhone(phoneOffer []byte, log *slog.Logger, onEnd func(string)) (*bridge, error) {
	st, err := parsePlain(phoneOffer, ErrBadSDP)
	if err != nil {
		return nil, err
	}
	codecs, err := steer(e.cfg.Codecs, st.codecs)
	if err != nil {
		return nil, err
	}
	br, err := e.bind(log, onEnd)
	if err != nil {
		return nil, err
	}
	br.codec, br.phoneSDP, br.phoneDir = codecs, st.rtp, st.dir
	return br, nil
}

// bind opens the plain leg's port pair and starts its readers.
func (e *mediaEnv) bind(log *slog.Logger, onEnd func(string)) (*bridge, error) {
	a, b, err := e.ports.Bind()
	if err != nil {
		return nil, err
	}
	e.stats.Sockets.Add(2)
	br := &bridge{env: e, log: log, rtp: a, rtcp: b, onEnd: onEnd, done: make(chan struct{}),
		org: origin{id: rand.Uint64() >> 1, version: 1}, phoneDir: sendrecv, browserDir: sendrecv}
	br.lastRx.Store(time.Now().UnixNano())
	br.spawn(br.readPlain)
	br.spawn(br.readPlainRTCP)
	return br, nil
}

// plainOffer is the offer for the phone's leg (newBridge).
func (b *bridge) plainOffer() ([]byte, error) {
	return plainOffer(b.env.cfg.MediaAddress, b.port(), b.codec, b.org)
}

func (b *bridge) port() int { return b.rtp.LocalAddr().(*net.UDPAddr).Port }

// answer takes the phone's answer, answers the browser's offer with the
// codec the phone chose (and telephone-event if both keep it) and
// returns that answer once ICE gathering is complete (newBridge).
func (b *bridge) answer(ctx context.Context, phoneAnswer []byte) ([]byte, error) {
	a, dir, err := parsePlainAnswer(phoneAnswer, b.codec)
	if err != nil {
		return nil, err
	}
	b.setPairing(a)
	b.mu.Lock()
	b.phoneSDP, b.phoneDir = a.rtp, dir
	b.mu.Unlock()
	if err := b.newPC(a.browserCodecs(), a.browser); err != nil {
		return nil, err
	}
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: b.offer}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebRTCOffer, err)
	}
	if err := b.addTrack(); err != nil {
		return nil, err
	}
	ans, err := b.pc.CreateAnswer(nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebRTCOffer, err)
	}
	sdpText, err := b.gather(ctx, ans)
	if err != nil {
		return nil, err
	}
	b.startWatch()
	return sdpText, nil
}

// browserOffer is the WebRTC offer for the browser's leg: the steered
// codecs numbered as the phone numbered them, complete with candidates
// (newBridgeFromPhone).
func (b *bridge) browserOffer(ctx context.Context) ([]byte, error) {
	if err := b.newPC(b.codec, codec{}); err != nil {
		return nil, err
	}
	if err := b.addTrack(); err != nil {
		return nil, err
	}
	o, err := b.pc.CreateOffer(nil)
	if err != nil {
		return nil, fmt.Errorf("webrtc: offer: %w", err)
	}
	return b.gather(ctx, o)
}

// browserAnswered takes the browser's answer to browserOffer and returns
// the plain answer for the phone: the codec the browser chose, in the
// phone's numbering, and telephone-event if both keep it.
func (b *bridge) browserAnswered(answer []byte) ([]byte, error) {
	sd := &sdp.SessionDescription{}
	if err := sd.Unmarshal(answer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	md := firstAudio(sd)
	if md == nil {
		return nil, fmt.Errorf("%w: the browser rejected the audio stream", ErrBadAnswer)
	}
	br, ph, brTE, phTE, ok := pair(audioCodecs(md), b.codec)
	if !ok {
		return nil, fmt.Errorf("%w: %w (answered: %s)", ErrBadAnswer, ErrNoCommonCodec, names(audioCodecs(md)))
	}
	a := &pairing{phone: ph, browser: br, phoneTE: phTE, browserTE: brTE}
	b.mu.Lock()
	a.rtp = b.phoneSDP
	b.browserDir = rtpmedia.DirectionOf(sd, md)
	phoneDir := b.phoneDir
	tr := b.track
	b.mu.Unlock()
	tr.setCodec(capability(br)) // before pion binds the track
	b.setPairing(a)
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	b.startWatch()
	return plainSDP(b.env.cfg.MediaAddress, b.port(), a.phoneCodecs(), b.org, phoneDir.Answer())
}

func (b *bridge) setPairing(a *pairing) {
	toPhone, toBrowser := a.maps()
	b.mu.Lock()
	b.pairing, b.toPhone, b.toBrowser = a, toPhone, toBrowser
	b.mu.Unlock()
}

// newPC makes the browser leg's PeerConnection with exactly codecs (so
// the browser can answer or send nothing else) and its handlers; the
// relay track sends as main.
func (b *bridge) newPC(codecs []codec, main codec) error {
	api, err := b.env.api(codecs)
	if err != nil {
		return err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle, RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire})
	if err != nil {
		return fmt.Errorf("webrtc: peer connection: %w", err)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = pc.Close()
		return errors.New("webrtc: call ended")
	}
	b.pc = pc
	b.track = &relayTrack{codec: capability(main)}
	b.mu.Unlock()
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		b.log.Debug("webrtc: browser leg", "state", s.String())
		if s == webrtc.PeerConnectionStateFailed {
			b.env.stats.Failures.note(pc)
			b.fail("ice/dtls failed")
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if !b.enter() {
			return
		}
		defer b.leave()
		b.readBrowser(tr)
	})
	return nil
}

// addTrack adds the relay track and reads its RTCP.
func (b *bridge) addTrack() error {
	sender, err := b.pc.AddTrack(b.track)
	if err != nil {
		return fmt.Errorf("webrtc: add track: %w", err)
	}
	b.spawn(func() { b.drainRTCP(sender) })
	return nil
}

// gather sets the local description and waits for ICE gathering (no
// trickle: the description goes out complete).
func (b *bridge) gather(ctx context.Context, d webrtc.SessionDescription) ([]byte, error) {
	gathered := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(d); err != nil {
		return nil, fmt.Errorf("webrtc: local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, fmt.Errorf("webrtc: ICE gathering: %w", ctx.Err())
	}
	return []byte(b.pc.LocalDescription().SDP), nil
}

// startWatch starts the RTP timeout.
func (b *bridge) startWatch() {
	b.lastRx.Store(time.Now().UnixNano())
	b.spawn(b.watch)
}

func capability(c codec) webrtc.RTPCodecCapability {
	if c.name == "" {
		return webrtc.RTPCodecCapability{}
	}
	return webrtc.RTPCodecCapability{MimeType: mimeType(c), ClockRate: c.clock, Channels: c.channels}
}

// enter accounts for one more goroutine unless the bridge is closing;
// leave ends it.
func (b *bridge) enter() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	b.env.stats.Goroutines.Add(1)
	return true
}

func (b *bridge) leave() {
	b.env.stats.Goroutines.Add(-1)
	b.wg.Done()
}

// spawn runs f on a goroutine of the bridge (unless it is closing).
func (b *bridge) spawn(f func()) {
	if !b.enter() {
		return
	}
	go func() {
		defer b.leave()
		f()
	}()
}

func (b *bridge) drop() {
	b.stats.Dropped.Add(1)
	b.env.stats.Dropped.Add(1)
}

// readBrowser relays the browser's RTP to the phone until the
// PeerConnection closes.
func (b *bridge) readBrowser(tr *webrtc.TrackRemote) {
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		b.lastRx.Store(time.Now().UnixNano())
		b.mu.Lock()
		m, dst, wants := b.toPhone, b.latched, b.phoneDir.Receives()
		if dst == nil {
			dst = b.phoneSDP
		}
		b.mu.Unlock()
		if m == nil || dst == nil || !wants || p.PayloadType > 127 || m[p.PayloadType] < 0 {
			b.drop()
			continue
		}
		p.PayloadType = uint8(m[p.PayloadType])
		if b.sendToPhone(p, dst) {
			b.stats.ToPhone.Add(1)
			b.env.stats.ToPhone.Add(1)
			b.env.stats.ToPhoneBytes.Add(uint64(p.MarshalSize()))
		} else {
			b.drop()
		}
	}
}

// sendToPhone sends one of the browser's packets to the phone, its
// sequence number shifted past the packets the gateway inserted.
func (b *bridge) sendToPhone(p *rtp.Packet, dst *net.UDPAddr) bool {
	b.outMu.Lock()
	defer b.outMu.Unlock()
	p.SequenceNumber += b.outShift
	buf, err := p.Marshal()
	if err != nil {
		return false
	}
	if _, err := b.rtp.WriteToUDP(buf, dst); err != nil {
		return false
	}
	b.outSeq, b.outTS, b.outSSRC, b.outAt = p.SequenceNumber, p.Timestamp, p.SSRC, time.Now()
	return true
}

// drainRTCP reads the browser's RTCP for our track (pion needs it read;
// relaying it is not yet built).
func (b *bridge) drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
		b.stats.RTCP.Add(1)
	}
}

// readPlain relays the phone's RTP to the browser; the first packet's
// source is latched as the phone's address (symmetric RTP), and packets
// from elsewhere are then dropped.
func (b *bridge) readPlain() {
	buf := make([]byte, 1500)
	for {
		n, src, err := b.rtp.ReadFromUDP(buf)
		if err != nil {
			if b.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		var p rtp.Packet
		if n < 12 || buf[0]>>6 != 2 || p.Unmarshal(buf[:n]) != nil {
			b.drop()
			continue
		}
		b.mu.Lock()
		if b.latched == nil {
			b.latched = src
		}
		ok := sameAddr(b.latched, src)
		m, tr, wants, a, onDigit := b.toBrowser, b.track, b.browserDir.Receives(), b.pairing, b.onDigit
		b.mu.Unlock()
		if ok && a != nil && a.phoneTE != nil && p.PayloadType == a.phoneTE.pt {
			b.phoneEvent(&p, *a.phoneTE, onDigit)
		}
		if !ok || m == nil || tr == nil || m[p.PayloadType] < 0 {
			b.drop()
			continue
		}
		b.lastRx.Store(time.Now().UnixNano())
		if !wants {
			b.drop()
			continue
		}
		if tr.write(&p, uint8(m[p.PayloadType])) {
			b.stats.ToBrowser.Add(1)
			b.env.stats.ToBrowser.Add(1)
			b.env.stats.ToBrowserBytes.Add(uint64(n))
		} else {
			b.drop()
		}
	}
}

// readPlainRTCP reads (and drops) the phone's RTCP.
func (b *bridge) readPlainRTCP() {
	buf := make([]byte, 1500)
	for {
		if _, _, err := b.rtcp.ReadFromUDP(buf); err != nil {
			if b.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		b.stats.RTCP.Add(1)
	}
}

// watch ends the call when no RTP came either way for rtp-timeout while
// neither side holds.
func (b *bridge) watch() {
	timeout := b.env.cfg.RTPTimeout
	t := time.NewTicker(min(timeout/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
		}
		if b.held() {
			b.lastRx.Store(time.Now().UnixNano())
			continue
		}
		if time.Since(time.Unix(0, b.lastRx.Load())) >= timeout {
			b.env.stats.Timeouts.Add(1)
			b.fail("rtp-timeout")
			return
		}
	}
}

// fail tells onEnd, once.
func (b *bridge) fail(reason string) {
	b.endOnce.Do(func() {
		if !b.isClosed() && b.onEnd != nil {
			go b.onEnd(reason)
		}
	})
}

func (b *bridge) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// close releases everything and waits for the bridge's goroutines.
func (b *bridge) close() {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		pc := b.pc
		b.mu.Unlock()
		close(b.done)
		if pc != nil {
			if err := pc.Close(); err != nil {
				b.log.Debug("webrtc: close peer connection", "error", err)
			}
		}
		b.rtp.Close()
		b.rtcp.Close()
		b.env.stats.Sockets.Add(-2)
		b.wg.Wait()
	})
}

// String is for logs.
func (b *bridge) String() string {
	return fmt.Sprintf("plain %s to-phone %d to-browser %d dropped %d", b.rtp.LocalAddr(), b.stats.ToPhone.Load(), b.stats.ToBrowser.Load(), b.stats.Dropped.Load())
}

func sameAddr(a, b *net.UDPAddr) bool {
	return a != nil && b != nil && a.Port == b.Port && a.IP.Equal(b.IP)
}
