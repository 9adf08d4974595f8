package echo

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/parley-rtc/parley/plugins/rtpmedia"
)

// ErrNoPorts: every RTP port of the range is taken (503 to the caller).
var ErrNoPorts = rtpmedia.ErrNoPorts

// peer is where one stream (RTP or RTCP) goes: the address the SDP gave
// and, with latching, the source of the first packet received.
type peer struct {
	sdp     *net.UDPAddr
	latched *net.UDPAddr
}

// media echoes one call's RTP and RTCP: every packet from the caller goes
// back to where it came from, RTP with the echo's own SSRC. It owns two
// sockets and one reader goroutine per socket; close releases all.
type media struct {
	log      *slog.Logger
	stats    *Stats
	rtp      *net.UDPConn
	rtcp     *net.UDPConn
	latch    bool
	timeout  time.Duration
	ssrc     [4]byte
	timedOut func() // called once, on its own goroutine, when RTP stops

	mu        sync.Mutex
	rtpPeer   peer
	rtcpPeer  peer
	mux       bool
	echo      bool // the answer is sendrecv: send back what comes in
	expect    bool // the caller should send RTP: the timeout applies
	lastRTP   time.Time
	fired     bool
	closed    bool
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// newMedia starts echoing on a port pair from pp for o.
func newMedia(pp *rtpmedia.Ports, o *offer, s Settings, stats *Stats, log *slog.Logger, timedOut func()) (*media, error) {
	a, b, err := pp.Bind()
	if err != nil {
		return nil, err
	}
	m := &media{log: log, stats: stats, rtp: a, rtcp: b, latch: s.Latch, timeout: s.RTPTimeout, timedOut: timedOut, lastRTP: time.Now()}
	ssrc := rand.Uint32()
	m.ssrc = [4]byte{byte(ssrc >> 24), byte(ssrc >> 16), byte(ssrc >> 8), byte(ssrc)}
	m.update(o)
	stats.Sockets.Add(2)
	stats.Goroutines.Add(2)
	m.wg.Add(2)
	go m.read(a, true)
	go m.read(b, false)
	return m, nil
}

// port is the local RTP port.
func (m *media) port() int { return m.rtp.LocalAddr().(*net.UDPAddr).Port }

// update applies a (new) offer: destinations, rtcp-mux and direction. A
// changed destination undoes the latching.
func (m *media) update(o *offer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rtpPeer.sdp == nil || !sameAddr(m.rtpPeer.sdp, o.remote) {
		m.rtpPeer = peer{sdp: o.remote}
		m.rtcpPeer = peer{sdp: o.rtcp}
	}
	m.mux = o.mux
	m.echo = o.echoing()
	if expect := o.expectsRTP(); expect && !m.expect {
		m.lastRTP = time.Now() // the timeout counts from the resume
	}
	m.expect = o.expectsRTP()
}

// read serves one socket until close.
func (m *media) read(c *net.UDPConn, isRTPPort bool) {
	defer m.wg.Done()
	defer m.stats.Goroutines.Add(-1)
	buf := make([]byte, 1500)
	for {
		if isRTPPort {
			m.mu.Lock()
			deadline := m.lastRTP.Add(m.timeout)
			m.mu.Unlock()
			_ = c.SetReadDeadline(deadline)
		}
		n, src, err := c.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				m.checkTimeout()
				continue
			}
			if m.isClosed() {
				return
			}
			m.log.Warn("echo: RTP read failed", "error", err)
			time.Sleep(10 * time.Millisecond) // bounded by close, which ends the loop
			continue
		}
		m.packet(c, buf[:n], src, isRTPPort)
	}
}

// checkTimeout fires timedOut once when the caller should be sending and
// has sent no RTP for the timeout; on hold it just moves the mark.
func (m *media) checkTimeout() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.fired {
		if !m.closed {
			m.lastRTP = time.Now() // keep the reader from spinning until close
		}
		return
	}
	if !m.expect {
		m.lastRTP = time.Now()
		return
	}
	if time.Since(m.lastRTP) >= m.timeout {
		m.fired = true
		m.lastRTP = time.Now()
		m.stats.Timeouts.Add(1)
		go m.timedOut()
	}
}

// packet handles one datagram.
func (m *media) packet(c *net.UDPConn, b []byte, src *net.UDPAddr, isRTPPort bool) {
	isRTCP := !isRTPPort || rtpmedia.IsRTCP(b)
	if isRTCP {
		if len(b) < 8 || b[0]>>6 != 2 {
			m.stats.Garbage.Add(1)
			return
		}
		m.stats.RTCPIn.Add(1)
	} else {
		var p rtp.Packet
		if len(b) < 12 || b[0]>>6 != 2 || p.Unmarshal(b) != nil {
			m.stats.Garbage.Add(1)
			return
		}
		m.stats.RTPIn.Add(1)
	}
	m.mu.Lock()
	pr := &m.rtpPeer
	if isRTCP && !(isRTPPort && m.mux) {
		pr = &m.rtcpPeer
	}
	if isRTCP && isRTPPort && !m.mux {
		m.mu.Unlock()
		m.stats.Garbage.Add(1) // RTCP on the RTP port without rtcp-mux
		return
	}
	switch {
	case m.latch && pr.latched == nil:
		pr.latched = src
	case m.latch && !sameAddr(pr.latched, src), !m.latch && !sameAddr(pr.sdp, src):
		m.mu.Unlock()
		m.stats.Ignored.Add(1)
		return
	}
	if !isRTCP {
		m.lastRTP = time.Now()
	}
	echo := m.echo
	m.mu.Unlock()
	if !echo {
		return
	}
	if !isRTCP {
		copy(b[8:12], m.ssrc[:])
	}
	if _, err := c.WriteToUDP(b, src); err != nil {
		m.log.Debug("echo: RTP write failed", "error", err)
		return
	}
	if isRTCP {
		m.stats.RTCPOut.Add(1)
	} else {
		m.stats.RTPOut.Add(1)
	}
}

func (m *media) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// close releases both sockets and waits for the readers.
func (m *media) close() {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		m.rtp.Close()
		m.rtcp.Close()
		m.stats.Sockets.Add(-2)
		m.wg.Wait()
	})
}

func sameAddr(a, b *net.UDPAddr) bool {
	return a != nil && b != nil && a.Port == b.Port && a.IP.Equal(b.IP)
}

// String is for logs.
func (m *media) String() string { return fmt.Sprintf("rtp %s", m.rtp.LocalAddr()) }
