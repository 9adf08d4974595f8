package webrtc

import (
	"fmt"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/parley-rtc/parley/plugins/rtpmedia"
)

// ErrNoPorts: every plain-RTP port pair is taken (503 to the caller).
var ErrNoPorts = rtpmedia.ErrNoPorts

// mediaEnv is what every call's media shares: the settings, the ICE UDP
// mux (one port for every browser leg) and the plain-RTP ports.
type mediaEnv struct {
	cfg   Config
	mux   ice.UDPMux // nil: a port per call from ice-ports
	conn  net.PacketConn
	ports *rtpmedia.Ports
	stats *Stats
}

// newMediaEnv binds the muxed ICE port (when configured); stats nil
// counts into a Stats of its own.
func newMediaEnv(cfg Config, stats *Stats) (*mediaEnv, error) {
	if stats == nil {
		stats = &Stats{}
	}
	e := &mediaEnv{cfg: cfg, ports: &rtpmedia.Ports{IP: cfg.MediaAddress, Min: cfg.RTPPortMin, Max: cfg.RTPPortMax}, stats: stats}
	if cfg.UDPPort == 0 {
		return e, nil
	}
	port := max(cfg.UDPPort, 0)
	ip := cfg.ICEAddress
	if ip == nil {
		ip = net.IPv4zero
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
	if err != nil {
		return nil, fmt.Errorf("webrtc: listen on udp-port: %w", err)
	}
	e.conn = conn
	var pc net.PacketConn = conn
	if ip.IsLoopback() {
		pc = loopbackConn{conn}
	}
	e.mux = webrtc.NewICEUDPMux(nil, pc)
	return e, nil
}

// loopbackConn is the muxed ICE socket on a loopback ice-address: it
// takes datagrams from loopback sources only. A peer on the same host
// pairs its other addresses with our loopback candidate too (Chromium
// does): answering those checks would send to addresses that are not
// loopback, from a gateway configured to serve this host only.
type loopbackConn struct{ net.PacketConn }

// ReadFrom reads the next datagram from a loopback source, skipping
// others, until the socket fails or closes.
func (c loopbackConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return n, addr, err
		}
		if ua, ok := addr.(*net.UDPAddr); ok && ua.IP.IsLoopback() {
			return n, addr, nil
		}
	}
}

// icePort is the muxed ICE port (0: none).
func (e *mediaEnv) icePort() int {
	if e.conn == nil {
		return 0
	}
	return e.conn.LocalAddr().(*net.UDPAddr).Port
}

// api builds a pion API whose media engine has exactly the codecs the
// call was steered to (so the browser's answer can hold nothing else).
func (e *mediaEnv) api(codecs []codec) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	for _, c := range codecs {
		p := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeType(c), ClockRate: c.clock, Channels: c.channels, SDPFmtpLine: c.fmtp},
			PayloadType:        webrtc.PayloadType(c.pt),
		}
		if err := me.RegisterCodec(p, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("webrtc: register %s: %w", c.rtpmap(), err)
		}
	}
	se := webrtc.SettingEngine{}
	// Chrome then picks AES-GCM SRTP, 2-3 times cheaper (deps.md).
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
		return nil, err
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if e.mux != nil {
		se.SetICEUDPMux(e.mux)
	} else if err := se.SetEphemeralUDPPortRange(uint16(e.cfg.ICEPortMin), uint16(e.cfg.ICEPortMax)); err != nil {
		return nil, err
	}
	if ip := e.cfg.ICEAddress; ip != nil {
		se.SetIPFilter(func(x net.IP) bool { return x.Equal(ip) })
		se.SetIncludeLoopbackCandidate(ip.IsLoopback())
	}
	if ip := e.cfg.PublicAddress; ip != nil {
		se.SetNAT1To1IPs([]string{ip.String()}, webrtc.ICECandidateTypeHost)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)), nil
}

func mimeType(c codec) string {
	switch c.name {
	case "pcmu":
		return webrtc.MimeTypePCMU
	case "pcma":
		return webrtc.MimeTypePCMA
	case "g722":
		return webrtc.MimeTypeG722
	case "opus":
		return webrtc.MimeTypeOpus
	}
	return "audio/" + c.name
}

func (e *mediaEnv) close() {
	if e.mux != nil {
		e.mux.Close()
	}
	if e.conn != nil {
		e.conn.Close()
	}
}
