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

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// bridgeStats count one call's packets.
type bridgeStats struct {
	ToPhone, ToBrowser atomic.Uint64 // RTP relayed each way
	Dropped            atomic.Uint64 // unknown payload type, garbage, unlatched source, not yet bound
	RTCP               atomic.Uint64 // RTCP read (from either side) and not relayed (not yet)
}

// bridge relays one call's audio between a browser (pion PeerConnection:
// ICE on the muxed port, DTLS-SRTP as the DTLS server, rtcp-mux, BUNDLE)
// and a phone (plain RTP/AVP on a port pair, symmetric latching). The
// payloads pass untouched; only the SSRC and the payload type change.
// close releases the sockets, the PeerConnection and every goroutine.
type bridge struct {
	env   *mediaEnv
	log   *slog.Logger
	offer string  // the browser's offer
	codec []codec // steered: what the phone is offered, browser-numbered
	org   origin
	rtp   *net.UDPConn
	rtcp  *net.UDPConn
	onEnd func(reason string) // once, on its own goroutine
	stats bridgeStats

	pc    *webrtc.PeerConnection
	track *relayTrack

	mu        sync.Mutex
	closed    bool
	toPhone   *ptMap // nil until the phone answered
	toBrowser *ptMap
	phoneSDP  *net.UDPAddr // where the phone's answer says to send
	latched   *net.UDPAddr // the source of its first packet
	wg        sync.WaitGroup

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
	a, b, err := e.ports.Bind()
	if err != nil {
		return nil, err
	}
	br := &bridge{env: e, log: log, offer: string(browserOffer), codec: codecs, rtp: a, rtcp: b, onEnd: onEnd, done: make(chan struct{}),
		org: origin{id: rand.Uint64() >> 1, version: 1}}
	br.lastRx.Store(time.Now().UnixNano())
	br.wg.Add(2)
	go br.readPlain()
	go br.readPlainRTCP()
	return br, nil
}

// plainOffer is the offer for the phone's leg.
func (b *bridge) plainOffer() ([]byte, error) {
	return plainOffer(b.env.cfg.MediaAddress, b.rtp.LocalAddr().(*net.UDPAddr).Port, b.codec, b.org)
}

// answer takes the phone's answer, answers the browser's offer with the
// codec the phone chose (and telephone-event if both keep it) and
// returns that answer once ICE gathering is complete.
func (b *bridge) answer(ctx context.Context, phoneAnswer []byte) ([]byte, error) {
	a, err := parsePlainAnswer(phoneAnswer, b.codec)
	if err != nil {
		return nil, err
	}
	toPhone, toBrowser := a.maps()
	b.mu.Lock()
	b.toPhone, b.toBrowser, b.phoneSDP = toPhone, toBrowser, a.rtp
	b.mu.Unlock()

	codecs := []codec{a.offered}
	if a.teOffered != nil {
		codecs = append(codecs, *a.teOffered)
	}
	api, err := b.env.api(codecs)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle, RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire})
	if err != nil {
		return nil, fmt.Errorf("webrtc: peer connection: %w", err)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		pc.Close()
		return nil, errors.New("webrtc: call ended")
	}
	b.pc = pc
	b.mu.Unlock()
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		b.log.Debug("webrtc: browser leg", "state", s.String())
		if s == webrtc.PeerConnectionStateFailed {
			b.fail("ice/dtls failed")
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if !b.track0() {
			return
		}
		defer b.wg.Done()
		b.readBrowser(tr)
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: b.offer}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebRTCOffer, err)
	}
	track := &relayTrack{codec: webrtc.RTPCodecCapability{MimeType: mimeType(a.offered), ClockRate: a.offered.clock, Channels: a.offered.channels}}
	b.mu.Lock()
	b.track = track
	b.mu.Unlock()
	sender, err := pc.AddTrack(track)
	if err != nil {
		return nil, fmt.Errorf("webrtc: add track: %w", err)
	}
	if b.track0() {
		go func() {
			defer b.wg.Done()
			b.drainRTCP(sender)
		}()
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebRTCOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return nil, fmt.Errorf("webrtc: local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, fmt.Errorf("webrtc: ICE gathering: %w", ctx.Err())
	}
	b.lastRx.Store(time.Now().UnixNano())
	if b.track0() {
		go func() {
			defer b.wg.Done()
			b.watch()
		}()
	}
	return []byte(pc.LocalDescription().SDP), nil
}

// track0 accounts for one more goroutine unless the bridge is closing.
func (b *bridge) track0() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	return true
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
		m, dst := b.toPhone, b.latched
		if dst == nil {
			dst = b.phoneSDP
		}
		b.mu.Unlock()
		if m == nil || dst == nil || p.PayloadType > 127 || m[p.PayloadType] < 0 {
			b.stats.Dropped.Add(1)
			continue
		}
		p.PayloadType = uint8(m[p.PayloadType])
		buf, err := p.Marshal()
		if err != nil {
			b.stats.Dropped.Add(1)
			continue
		}
		if _, err := b.rtp.WriteToUDP(buf, dst); err == nil {
			b.stats.ToPhone.Add(1)
		}
	}
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
	defer b.wg.Done()
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
			b.stats.Dropped.Add(1)
			continue
		}
		b.mu.Lock()
		if b.latched == nil {
			b.latched = src
		}
		ok := sameAddr(b.latched, src)
		m, tr := b.toBrowser, b.track
		b.mu.Unlock()
		if !ok || m == nil || tr == nil || m[p.PayloadType] < 0 {
			b.stats.Dropped.Add(1)
			continue
		}
		b.lastRx.Store(time.Now().UnixNano())
		if tr.write(&p, uint8(m[p.PayloadType])) {
			b.stats.ToBrowser.Add(1)
		} else {
			b.stats.Dropped.Add(1)
		}
	}
}

// readPlainRTCP reads (and drops) the phone's RTCP.
func (b *bridge) readPlainRTCP() {
	defer b.wg.Done()
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

// watch ends the call when no RTP came either way for rtp-timeout.
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
		if time.Since(time.Unix(0, b.lastRx.Load())) >= timeout {
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
