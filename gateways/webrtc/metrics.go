package webrtc

import (
	"context"
	"strconv"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// legFailures count browser legs that failed, by reason.
type legFailures struct {
	ICE  atomic.Uint64 // ICE failed (no pair, or consent freshness lost)
	DTLS atomic.Uint64 // ICE up, DTLS failed (handshake, fingerprint)
}

// note counts pc's failure under its reason.
func (f *legFailures) note(pc *webrtc.PeerConnection) {
	switch pc.ICEConnectionState() {
	case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
		f.DTLS.Add(1)
	default:
		f.ICE.Add(1)
	}
}

// registry is the gateway's metrics (README, "Metrics"), read from its
// Stats when the node scrapes them: nothing is added to the media path
// beyond the Stats counters.
func (g *Gateway) registry() *prometheus.Registry {
	s := &g.stats
	reg := prometheus.NewRegistry()
	counter := func(name, help string, labels prometheus.Labels, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v.Load()) })
	}
	const (
		packets = "RTP packets relayed, by direction (to_phone, to_browser), ended calls included."
		bytes   = "RTP bytes relayed (whole packets), by direction (to_phone, to_browser), ended calls included."
		fails   = "Browser legs failed, by reason (ice: no usable pair or consent lost; dtls: ICE up, DTLS failed)."
	)
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_webrtc_calls_active", Help: "Calls bridged right now."},
			func() float64 { return float64(g.Calls()) }),
		counter("parley_webrtc_calls_total", "Calls bridged since the start.", nil, &s.Calls),
		counter("parley_webrtc_packets_total", packets, prometheus.Labels{"direction": "to_phone"}, &s.ToPhone),
		counter("parley_webrtc_packets_total", packets, prometheus.Labels{"direction": "to_browser"}, &s.ToBrowser),
		counter("parley_webrtc_bytes_total", bytes, prometheus.Labels{"direction": "to_phone"}, &s.ToPhoneBytes),
		counter("parley_webrtc_bytes_total", bytes, prometheus.Labels{"direction": "to_browser"}, &s.ToBrowserBytes),
		counter("parley_webrtc_packets_dropped_total", "RTP packets dropped: unknown payload type, garbage, unlatched source, held, not yet bound.", nil, &s.Dropped),
		counter("parley_webrtc_rtp_timeouts_total", "Calls ended by rtp-timeout.", nil, &s.Timeouts),
		counter("parley_webrtc_failures_total", fails, prometheus.Labels{"reason": "ice"}, &s.Failures.ICE),
		counter("parley_webrtc_failures_total", fails, prometheus.Labels{"reason": "dtls"}, &s.Failures.DTLS),
	)
	return reg
}

// details is the gateway's state for parleyctl app status.
func (g *Gateway) details(context.Context) map[string]string {
	s := &g.stats
	return map[string]string{
		"ua":          g.Addr(),
		"calls":       strconv.Itoa(g.Calls()),
		"calls_total": strconv.FormatUint(s.Calls.Load(), 10),
		"sockets":     strconv.FormatInt(s.Sockets.Load(), 10),
		"timeouts":    strconv.FormatUint(s.Timeouts.Load(), 10),
	}
}
